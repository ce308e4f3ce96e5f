"""The display-plugin check: one line naming what is missing instead of Qt's abort."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from inpaint_studio import qt_platform

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="xcb is Linux only")


def refuse(soname):
    def load(path):
        raise OSError(f"{soname}: cannot open shared object file: No such file or directory")
    return load


def test_a_missing_library_is_named_with_its_package():
    if qt_platform.xcb_plugin() is None:
        pytest.skip("PySide6 without the xcb plugin")
    line = qt_platform.problem({"DISPLAY": ":0"}, load=refuse("libxcb-icccm.so.4"))
    assert "libxcb-icccm.so.4 is missing (package libxcb-icccm4)" in line
    assert "apt-get install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1" in line
    assert "\n" not in line


def test_plugin_loading_is_tried_only_where_xcb_is_used():
    tried = []
    load = lambda path: tried.append(path)  # noqa: E731
    for env in ({"QT_QPA_PLATFORM": "offscreen"}, {"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}):
        assert qt_platform.problem(env, load=load) == ""
    assert tried == []
    assert qt_platform.uses_xcb({"QT_QPA_PLATFORM": "xcb:nograb", "WAYLAND_DISPLAY": "w"})
    qt_platform.problem({"DISPLAY": ":0"}, load=load)
    assert tried == ([] if qt_platform.xcb_plugin() is None else [str(qt_platform.xcb_plugin())])


def test_no_display_is_said():
    line = qt_platform.problem({"QT_QPA_PLATFORM": "xcb"}, load=lambda path: None)
    assert line.startswith("no display") and "DISPLAY is not set" in line


def test_the_editor_exits_with_one_line_instead_of_aborting(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(QT_QPA_PLATFORM="xcb", HOME=str(tmp_path))
    done = subprocess.run([sys.executable, "-m", "inpaint_studio"], env=env, capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("inpaint-studio: error: ")
