"""Choosing a not-ready engine opens the weights dialog: what it needs, the licences, a
resumable download (progress, Cancel) from a local server, and Import File…."""
from __future__ import annotations

import pytest
from PySide6.QtWidgets import QFileDialog

from file_server import FileServer
from inpaint_studio.engines import weights

torch = pytest.importorskip("torch")
NAME = "deepfill2-places2-tf"


@pytest.fixture
def server(tmp_path, monkeypatch):
    """The real manifest, with the DeepFill v2 entry served from 127.0.0.1 (held at 3 MB)."""
    from inpaint_studio.engines.gated.network import build

    monkeypatch.setenv("INPAINT_STUDIO_USER_WEIGHTS", str(tmp_path / "user-weights"))
    torch.manual_seed(0)
    source = tmp_path / "served.pth"
    torch.save({"G": build("deepfill2-tf").state_dict()}, source)
    payload = source.read_bytes()
    with FileServer(payload, "states_tf_places2.pth", hold_after=3 << 20) as srv:
        text = (weights.paths.weights_dir() / weights.MANIFEST).read_text()
        head, _, rest = text.partition(f'name = "{NAME}"')
        block, sep, tail = rest.partition("[[weights]]")
        block = "\n".join(ln for ln in block.splitlines() if not ln.startswith(("url", "size")))
        block += f'\nurl = "{srv.url}"\nsize = {len(payload)}\n\n'
        folder = tmp_path / "bundled"
        folder.mkdir()
        (folder / weights.MANIFEST).write_text(head + f'name = "{NAME}"' + block + sep + tail)
        monkeypatch.setenv("INPAINT_STUDIO_WEIGHTS", str(folder))
        yield srv


def choose(win, engine):
    combo = win.engine_panel.engine_combo
    combo.setCurrentIndex(combo.findData(engine))  # as picking it in the list does
    return win.weights.dialog


def test_choosing_gated_opens_a_dialog_with_licences_and_downloads(qtbot, server, window):
    win = window
    before = win.engine_panel.engine
    dialog = choose(win, "gated")
    assert dialog is not None and dialog.isVisible() and win.engine_panel.engine == before
    assert dialog.windowTitle().startswith("Set up ")
    texts = " ".join(label.text() for label in dialog.findChildren(type(dialog.status)))
    assert "non-commercial use only" in texts and "CC BY-NC 4.0" in texts and "MIT" in texts
    assert set(dialog.download_buttons) == {NAME, "deepfill2-places2-pt"}
    assert dialog.import_button.text() == "Import File…"
    dialog.reject()
    assert win.weights.dialog is None


def test_download_shows_progress_cancels_and_resumes(qtbot, server, window):
    win = window
    dialog = choose(win, "gated")
    seen = []
    dialog.downloads.progress.connect(lambda f, m: seen.append(f))
    with qtbot.waitSignal(dialog.downloads.progress, timeout=30000):
        dialog.download_buttons[NAME].click()
    assert dialog.progress.isVisible() and dialog.cancel_button.isVisible() and dialog.cancel_button.isEnabled()
    assert not dialog.import_button.isEnabled()
    with qtbot.waitSignal(dialog.downloads.cancelled, timeout=30000):
        dialog.cancel_button.click()
        server.gate.set()  # the held reply goes on; the next block sees the cancel
    assert "cancelled" in dialog.status.text().lower() and not dialog.cancel_button.isEnabled()
    done = weights.partial_bytes(NAME)
    assert done >= 1 << 20 and dialog.download_buttons[NAME].text().startswith("Resume download")
    assert 0 < seen[-1] < 1 and win.engine_panel.engine != "gated"
    with qtbot.waitSignal(dialog.ready, timeout=60000) as ready:
        dialog.download_buttons[NAME].click()
    assert ready.args == ["gated"]
    assert server.requests[-1] == (f"bytes={done}-", server.etag)  # resumed, not restarted
    assert seen[-1] == 1.0 and win.engine_panel.engine == "gated"
    assert weights.missing_reason(NAME) == "" and weights.partial_bytes(NAME) == 0
    assert "ready" in dialog.status.text() and dialog.close_button.text() == "Done"
    dialog.accept()


def test_a_failed_download_says_why_and_keeps_the_engine(qtbot, server, window):
    win = window
    server.payload = b"not a checkpoint" * 1000
    server.hold_after = 0
    dialog = choose(win, "gated")
    with qtbot.waitSignal(dialog.downloads.failed, timeout=30000) as failed:
        dialog.download_buttons[NAME].click()
    assert "is 16000 bytes, expected" in str(failed.args[0])
    assert dialog.status.text().startswith("Download failed:") and "\n" not in dialog.status.text()
    assert win.engine_panel.engine != "gated" and dialog.import_button.isEnabled()
    dialog.reject()


def test_import_file_from_the_dialog_installs_and_selects(qtbot, server, window, tmp_path, monkeypatch, infos):
    from inpaint_studio.engines.pennet.network import PenNetGenerator

    win = window
    checkpoint = tmp_path / "gen_00042.pth"
    torch.manual_seed(0)
    torch.save({"netG": PenNetGenerator().state_dict()}, checkpoint)
    dialog = choose(win, "pennet")
    assert dialog.download_buttons == {}  # PEN-Net has no download address: import only
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(checkpoint), "")))
    with qtbot.waitSignal(dialog.ready, timeout=60000):
        dialog.import_button.click()
        assert dialog.status.text() == "Importing gen_00042.pth…"
    assert win.engine_panel.engine == "pennet" and "installed" in dialog.status.text().lower()
    assert infos and "MIT" in infos[-1][1]  # the licence is shown once, by the window
    dialog.accept()
