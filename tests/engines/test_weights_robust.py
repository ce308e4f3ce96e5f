"""Weights set-up never gets stuck and says what is wrong in one line (fuzz findings 4, 6)."""
from __future__ import annotations

import hashlib
import json
import os
import pickle

import pytest
import torch

from file_server import FileServer
from inpaint_studio.cli import main
from inpaint_studio.core.errors import UserError
from inpaint_studio.engines import registry, weights
from inpaint_studio.engines.gated.network import build

NAME = "deepfill2-places2-tf"


@pytest.fixture
def user_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("INPAINT_STUDIO_USER_WEIGHTS", str(tmp_path / "user"))
    return tmp_path / "user"


def generator(seed=0):
    torch.manual_seed(seed)
    return {"G": build("deepfill2-tf").state_dict()}


def saved(path, obj):
    torch.save(obj, path)
    return path


def payload_of(tmp_path, seed):
    return saved(tmp_path / f"g{seed}.pth", generator(seed)).read_bytes()


def private_manifest(tmp_path, monkeypatch, url, sha="", size=0):
    """The real manifest with the downloadable DeepFill entry pointed at ``url``."""
    text = (weights.paths.weights_dir() / weights.MANIFEST).read_text()
    head, _, rest = text.partition(f'name = "{NAME}"')
    block, sep, tail = rest.partition("[[weights]]")
    lines = [ln for ln in block.splitlines() if not ln.startswith(("url", "sha256", "size"))]
    block = "\n".join(lines) + f'\nurl = "{url}"\nsha256 = "{sha}"\nsize = {size}\n\n'
    folder = tmp_path / "bundled"
    folder.mkdir(exist_ok=True)
    (folder / weights.MANIFEST).write_text(head + f'name = "{NAME}"' + block + sep + tail)
    monkeypatch.setenv("INPAINT_STUDIO_WEIGHTS", str(folder))


def test_a_stale_part_file_is_deleted_so_the_next_try_works(user_dir, tmp_path, monkeypatch):
    new = payload_of(tmp_path, 1)
    user_dir.mkdir()
    part = user_dir / f"{NAME}.download.part"
    with FileServer(new) as server:
        private_manifest(tmp_path, monkeypatch, server.url)  # no sha256: checked by structure
        part.write_bytes(b"\x00stale" * 5000)  # begun from this address, but junk
        part.with_name(part.name + ".json").write_text(json.dumps({"url": server.url}))
        with pytest.raises(UserError, match="unusable") as caught:
            weights.download(NAME, convert=registry.converter("gated"))  # spliced: junk start + new end
        assert "\n" not in str(caught.value)
        assert not part.exists()
        assert weights.download(NAME, convert=registry.converter("gated")) == NAME  # a clean second try
        assert server.requests[-1] == (None, None)
        part.write_bytes(payload_of(tmp_path, 2)[:len(new) // 3])  # of unknown origin
        part.with_name(part.name + ".json").unlink(missing_ok=True)
        weights.download(NAME, convert=registry.converter("gated"))
        assert server.requests[-1] == (None, None)  # never resumed, so never spliced
    state = weights.load_state_dict(NAME)
    key, value = next(iter(generator(1)["G"].items()))
    assert torch.equal(state[key], value.float())


def test_a_changed_file_restarts_instead_of_splicing(user_dir, tmp_path, monkeypatch):
    old, new = payload_of(tmp_path, 1), payload_of(tmp_path, 2)
    with FileServer(old, hold_after=len(old) // 2) as server:
        private_manifest(tmp_path, monkeypatch, server.url)
        seen = []
        with pytest.raises(weights.Cancelled):
            weights.download(NAME, progress=lambda f, m: seen.append(f), cancel=lambda: bool(seen),
                    convert=registry.converter("gated"))
        part = user_dir / f"{NAME}.download.part"
        assert 0 < part.stat().st_size < len(old)
        server.payload = new  # the file changed on the server: new ETag
        weights.download(NAME, convert=registry.converter("gated"))
    assert server.requests[-1] == (f"bytes={part_size(server)}-", FileServer(old).etag)
    state = weights.load_state_dict(NAME)
    expected = generator(2)["G"]
    key = next(iter(expected))
    assert torch.equal(state[key], expected[key].float())  # the new file, whole


def part_size(server):
    return server.requests[-1][0].split("=")[1].rstrip("-")


def test_unsafe_junk_and_broken_files_get_one_line_reasons(user_dir, tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo never",))

    evil = saved(tmp_path / "evil.pth", {"x": Evil()})
    with pytest.raises(UserError, match=r"Python objects \((posix|nt)\.system\).*for safety"):
        weights.import_checkpoint(evil, "gated", convert=registry.converter("gated"))
    raw = tmp_path / "raw.pth"
    raw.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(UserError, match="not a readable PyTorch checkpoint"):
        weights.import_checkpoint(raw, "gated", convert=registry.converter("gated"))
    text = tmp_path / "notes.pth"
    text.write_text("hello\n" * 20)
    with pytest.raises(UserError, match="not a readable PyTorch checkpoint"):
        weights.import_checkpoint(text, "gated", convert=registry.converter("gated"))
    ours = saved(tmp_path / "ours.pth", {"format": weights.FORMAT, "engine": "gated", "layout": "x"})
    with pytest.raises(UserError, match="without weights"):
        weights.import_checkpoint(ours, "gated", convert=registry.converter("gated"))
    other = saved(tmp_path / "other.pth", {"something": 1})
    with pytest.raises(UserError):
        weights.import_checkpoint(other, "gated", convert=registry.converter("gated"))
    bad = generator(0)
    for value in bad["G"].values():
        value.fill_(float("nan"))
    nan = saved(tmp_path / "nan.pth", bad)
    with pytest.raises(UserError, match="NaN or infinite"):
        weights.import_checkpoint(nan, "gated", convert=registry.converter("gated"))
    assert not (user_dir / weights.INSTALLED).exists()  # nothing was installed


def test_a_damaged_installed_json_is_rebuilt_not_forgotten(user_dir, tmp_path):
    source = saved(tmp_path / "states_tf_places2.pth", generator(0))
    weights.import_checkpoint(source, "gated", convert=registry.converter("gated"))
    record = tmp_path / "user" / weights.INSTALLED
    sha = json.loads(record.read_text())[NAME]["sha256"]
    record.write_bytes(record.read_bytes()[:25])  # a torn write
    assert weights.missing_reason(NAME) == ""
    assert weights.installed_records()[NAME]["sha256"] == sha
    assert (record.parent / (weights.INSTALLED + ".damaged")).exists()
    assert json.loads(record.read_text())[NAME]["sha256"] == sha  # written back whole


def test_verify_of_a_changed_file_says_so_on_stderr(user_dir, tmp_path, capsys):
    weights.import_checkpoint(saved(tmp_path / "states_tf_places2.pth", generator(0)), "gated",
            convert=registry.converter("gated"))
    path = weights.weight_path(NAME)
    path.write_bytes(path.read_bytes()[:-10])
    assert main(["weights", "verify"]) == 1
    captured = capsys.readouterr()
    assert "does not match" in captured.out
    assert captured.err.startswith("inpaint-studio: error: 1 installed weight file(s) failed")
    assert hashlib.sha256(path.read_bytes()).hexdigest()  # the file was left for the user
