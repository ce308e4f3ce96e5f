"""Weights manager: manifest, missing reasons, import checks, hash checks, resumable download."""
import hashlib
import http.server
import sys
import threading

import pytest
import torch

from inpaint_studio.core.errors import UserError
from inpaint_studio.engines import registry, weights
from inpaint_studio.engines.gated.network import build


@pytest.fixture
def user_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("INPAINT_STUDIO_USER_WEIGHTS", str(tmp_path / "user"))
    return tmp_path / "user"


def generator_file(path, seed=0):
    torch.manual_seed(seed)
    torch.save({"G": build("deepfill2-tf").state_dict()}, path)
    return path


def test_manifest_lists_public_and_own_weights_with_licences():
    entries = {e.name: e for e in weights.entries()}
    for name in registry.get_info("gated").weights + registry.get_info("pennet").weights:
        assert entries[name].engine in ("gated", "pennet")
    assert entries["gated-sketch-ours"].bundled and entries["pennet-ours"].bundled
    tf = entries["deepfill2-places2-tf"]
    assert not tf.bundled and tf.url.startswith("https://") and tf.sha256 == ""
    assert "NON-COMMERCIAL" in weights.licence_line(tf)
    assert "NON-COMMERCIAL" not in weights.licence_line("pennet-places2")


def test_missing_weights_say_how_to_get_them(user_dir):
    reason = weights.missing_reason("deepfill2-places2-tf")
    assert "inpaint-studio weights download deepfill2-places2-tf" in reason
    assert "inpaint-studio weights import FILE --engine gated" in reason
    assert "inpaint-studio weights import FILE --engine pennet" in weights.missing_reason("pennet-places2")
    assert "deepfill2-places2-tf' (licence CC BY-NC 4.0: non-commercial use only) are not installed" in reason
    assert "non-commercial" not in weights.missing_reason("pennet-places2")  # MIT
    state = registry.readiness("gated")
    assert not state.ready and "weights download deepfill2-places2-tf" in state.reason
    assert "import FILE --engine pennet" in registry.readiness("pennet").reason
    with pytest.raises(UserError, match="not installed"):
        weights.load_state_dict("deepfill2-places2-tf")
    with pytest.raises(UserError, match="unknown weights 'nope'"):
        weights.missing_reason("nope")


def test_import_rejects_wrong_structure_and_unreadable_files(user_dir, tmp_path):
    wrong = tmp_path / "wrong.pth"
    torch.save({"G": {"conv1.conv.weight": torch.zeros(48, 5, 5, 5)}}, wrong)
    with pytest.raises(UserError, match=r"not a DeepFill v2 generator .*83 missing: conv1.conv.bias"):
        weights.import_checkpoint(wrong, "gated", convert=registry.converter("gated"))
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"<html>quota exceeded</html>")
    with pytest.raises(UserError, match="not a readable PyTorch checkpoint"):
        weights.import_checkpoint(garbage, "gated", convert=registry.converter("gated"))
    unsafe = tmp_path / "unsafe.pth"
    torch.save({"G": threading.Lock}, unsafe)  # a pickled global: refused by weights_only
    with pytest.raises(UserError, match=r"contains Python objects \(.*allocate_lock\) that are not loaded"):
        weights.import_checkpoint(unsafe, "gated", convert=registry.converter("gated"))
    with pytest.raises(UserError, match="no such file"):
        weights.import_checkpoint(tmp_path / "absent.pth", "gated", convert=registry.converter("gated"))
    with pytest.raises(UserError, match="uses no weight files"):
        weights.import_checkpoint(wrong, "telea", convert=registry.converter("telea"))
    with pytest.raises(UserError, match="expects deepfill2-pt"):
        weights.import_checkpoint(generator_file(tmp_path / "g.pth"), "gated", name="deepfill2-places2-pt",
                convert=registry.converter("gated"))
    assert not (user_dir / weights.INSTALLED).exists()


def test_import_installs_verifies_and_catches_a_changed_file(user_dir, tmp_path):
    source = generator_file(tmp_path / "states_tf_places2.pth")
    assert weights.import_checkpoint(source, "gated", convert=registry.converter("gated")) == "deepfill2-places2-tf"
    path = weights.weight_path("deepfill2-places2-tf")
    assert path.parent == user_dir and path.is_file()
    record = weights.installed_records()["deepfill2-places2-tf"]
    assert record["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert weights.missing_reason("deepfill2-places2-tf") == ""
    state = weights.load_state_dict("deepfill2-places2-tf")
    assert torch.equal(state["conv1.conv.weight"], torch.load(source, weights_only=True)["G"]["conv1.conv.weight"])
    assert weights.verify("deepfill2-places2-tf") == ""

    data = bytearray(path.read_bytes())
    data[-100] ^= 0xFF  # one flipped byte: same size, new mtime
    path.write_bytes(bytes(data))
    with pytest.raises(UserError, match="does not match its recorded sha256"):
        weights.load_state_dict("deepfill2-places2-tf")
    assert "does not match" in weights.verify("deepfill2-places2-tf")


def test_hash_is_cached_by_size_and_mtime(user_dir, tmp_path, monkeypatch):
    path = tmp_path / "blob.bin"
    path.write_bytes(b"x" * 1000)
    first = weights.file_sha256(path)
    calls = []
    real = hashlib.sha256
    monkeypatch.setattr(weights.hashlib, "sha256", lambda: calls.append(1) or real())
    assert weights.file_sha256(path) == first and not calls
    path.write_bytes(b"y" * 1001)
    assert weights.file_sha256(path) == real(b"y" * 1001).hexdigest() and calls


# ---------------------------------------------------------------- download


class Server:
    """127.0.0.1 HTTP server for one file, with Range support; can drop the first reply half way."""

    def __init__(self, payload: bytes, drop_first: bool = False):
        self.payload, self.drop_first, self.requests = payload, drop_first, []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                rng = self.headers.get("Range")
                owner.requests.append(rng)
                start = int(rng.split("=")[1].split("-")[0]) if rng else 0
                body = owner.payload[start:]
                self.send_response(206 if rng else 200)
                if rng:
                    self.send_header("Content-Range", f"bytes {start}-{len(owner.payload) - 1}/{len(owner.payload)}")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if owner.drop_first and len(owner.requests) == 1:
                    self.wfile.write(body[:len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/states_tf_places2.pth"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


def write_manifest(tmp_path, monkeypatch, payload, url="", sha=None):
    """A private manifest (INPAINT_STUDIO_WEIGHTS) with one downloadable gated entry."""
    folder = tmp_path / "bundled"
    folder.mkdir(exist_ok=True)
    digest = hashlib.sha256(payload).hexdigest() if sha is None else sha
    (folder / weights.MANIFEST).write_text(f'''
[[weights]]
name = "deepfill2-places2-tf"
engine = "gated"
title = "test"
file = "deepfill2-places2-tf.pth"
layout = "deepfill2-tf"
licence = "CC BY-NC 4.0"
training_data = "Places2"
source_url = "https://example.invalid/"
sha256 = "{digest}"
size = {len(payload)}
url = "{url}"
''')
    monkeypatch.setenv("INPAINT_STUDIO_WEIGHTS", str(folder))




@pytest.fixture
def payload(tmp_path):
    return generator_file(tmp_path / "served.pth").read_bytes()


def test_download_resumes_after_a_dropped_connection_and_installs(user_dir, tmp_path, monkeypatch, payload):
    with Server(payload, drop_first=True) as server:
        write_manifest(tmp_path, monkeypatch, payload, url=server.url)
        seen = []
        assert weights.download("deepfill2-places2-tf", progress=lambda f, m: seen.append(f),
                convert=registry.converter("gated")) == "deepfill2-places2-tf"
    assert server.requests[0] is None
    assert server.requests[1] == f"bytes={len(payload) // 2}-"  # resumed where the drop left it
    assert seen[-1] == 1.0
    assert weights.missing_reason("deepfill2-places2-tf") == ""
    assert weights.installed_records()["deepfill2-places2-tf"]["source"] == server.url
    assert not list(user_dir.glob("*.part"))
    state = weights.load_state_dict("deepfill2-places2-tf")
    assert len(state) == 84


def test_download_continues_an_existing_part_file(user_dir, tmp_path, monkeypatch, payload):
    user_dir.mkdir()
    (user_dir / "deepfill2-places2-tf.download.part").write_bytes(payload[:1000])
    with Server(payload) as server:
        (user_dir / "deepfill2-places2-tf.download.part.json").write_text(f'{{"url": "{server.url}"}}')
        write_manifest(tmp_path, monkeypatch, payload, url=server.url)
        weights.download("deepfill2-places2-tf", convert=registry.converter("gated"))
    assert server.requests == ["bytes=1000-"]
    assert weights.verify("deepfill2-places2-tf") == ""


def test_download_with_a_wrong_hash_is_refused_and_deleted(user_dir, tmp_path, monkeypatch, payload):
    with Server(payload) as server:
        write_manifest(tmp_path, monkeypatch, payload, url="", sha="0" * 64)
        with pytest.raises(UserError, match="has no download address"):
            weights.download("deepfill2-places2-tf", convert=registry.converter("gated"))
        with pytest.raises(UserError, match="sha256 .* expected 000000000000"):
            weights.download("deepfill2-places2-tf", url=server.url, convert=registry.converter("gated"))
    assert not list(user_dir.glob("*.part"))
    assert weights.missing_reason("deepfill2-places2-tf") != ""


def test_listing_and_readiness_never_import_torch():
    code = ("import sys; from inpaint_studio.engines import registry, weights; "
            "[weights.missing_reason(e) for e in weights.entries()]; registry.readiness('gated'); "
            "assert 'torch' not in sys.modules")
    import subprocess
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_cli_lists_imports_and_verifies(user_dir, tmp_path, capsys):
    from inpaint_studio.cli import main

    assert main(["weights", "list"]) == 0
    listing = capsys.readouterr().out
    assert "deepfill2-places2-tf [gated] not installed" in listing and "NON-COMMERCIAL USE ONLY" in listing
    source = generator_file(tmp_path / "states_tf_places2.pth")
    assert main(["weights", "import", str(source), "--engine", "gated"]) == 0
    out = capsys.readouterr().out
    assert "as 'deepfill2-places2-tf'" in out and "CC BY-NC 4.0" in out
    assert main(["weights", "verify"]) == 0
    assert "deepfill2-places2-tf: ok" in capsys.readouterr().out
    path = weights.weight_path("deepfill2-places2-tf")
    path.write_bytes(path.read_bytes()[:-10])
    assert main(["weights", "verify"]) == 1
    assert main(["weights", "import", str(tmp_path / "nope.pth"), "--engine", "gated"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_unnamed_import_goes_to_the_public_entry_not_our_bundled_one(tmp_path, monkeypatch):
    import torch

    from inpaint_studio.engines.pennet.network import PenNetGenerator

    monkeypatch.setenv("INPAINT_STUDIO_USER_WEIGHTS", str(tmp_path / "user"))
    source = tmp_path / "gen_00001.pth"
    torch.save({"netG": PenNetGenerator().state_dict()}, source)
    assert weights.import_checkpoint(source, "pennet", convert=registry.converter("pennet")) == "pennet-places2"
    assert "Places2" in weights.licence_line("pennet-places2")


def test_a_pennet_training_export_imports_as_our_entry(tmp_path, monkeypatch):
    import torch

    from inpaint_studio.engines.pennet.network import PenNetGenerator

    monkeypatch.setenv("INPAINT_STUDIO_USER_WEIGHTS", str(tmp_path / "user"))
    export = tmp_path / "export.pth"
    torch.save({"format": weights.FORMAT, "engine": "pennet", "layout": "pennet-official",
                "state_dict": PenNetGenerator().half().state_dict(), "steps": 1}, export)
    assert weights.import_checkpoint(export, "pennet", convert=registry.converter("pennet")) == "pennet-ours"
    assert registry.readiness("pennet").ready
