"""Say in one line why Qt's display plugin cannot start, before Qt aborts the process.

On Linux Qt's ``xcb`` plugin needs system libraries that a minimal install lacks; Qt then
aborts (exit 134) naming only ``xcb-cursor0``. Never imports Qt: it loads the plugin file
with ``ctypes`` to find what is missing."""
from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import sys
from pathlib import Path
from typing import Callable, Mapping, Optional

# Library -> Debian/Ubuntu package, for each one whose absence stops the xcb plugin (checked
# one by one under Xvfb; Qt aborts with "xcb-cursor0 is needed" for any xcb one).
PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0", "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1", "libxcb-image.so.0": "libxcb-image0",
    "libxcb-randr.so.0": "libxcb-randr0", "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0", "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0", "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0", "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-shm.so.0": "libxcb-shm0", "libX11-xcb.so.1": "libx11-xcb1",
    "libEGL.so.1": "libegl1", "libGL.so.1": "libgl1", "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3", "libglib-2.0.so.0": "libglib2.0-0",
}
INSTALL = "sudo apt-get install " + " ".join(PACKAGES.values())
_SONAME = re.compile(r"(lib[\w.+-]+?\.so(?:\.\d+)*)")


def xcb_plugin() -> Optional[Path]:
    """PySide6's ``libqxcb.so``, found without importing Qt (None if absent)."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return path if path.is_file() else None


def uses_xcb(env: Mapping[str, str]) -> bool:
    """Whether Qt will start on its X11 plugin here."""
    if not sys.platform.startswith("linux"):
        return False
    chosen = env.get("QT_QPA_PLATFORM", "")
    if chosen:
        return chosen.split(";")[0].split(":")[0] == "xcb"
    return not env.get("WAYLAND_DISPLAY")


def problem(env: Optional[Mapping[str, str]] = None,
            load: Callable[[str], object] = ctypes.CDLL) -> str:
    """"" when Qt can start its display plugin, else one line saying what to do."""
    env = os.environ if env is None else env
    if not uses_xcb(env):
        return ""
    plugin = xcb_plugin()
    if plugin is not None:
        try:
            load(str(plugin))
        except OSError as exc:
            found = _SONAME.search(str(exc))
            missing = found.group(1) if found else str(exc)
            package = f" (package {PACKAGES[missing]})" if missing in PACKAGES else ""
            return (f"the Qt display plugin (xcb) cannot load: {missing} is missing{package}; "
                    f"install the system libraries: {INSTALL}")
    if not env.get("DISPLAY"):
        return ("no display to open the editor on (DISPLAY is not set): start it from a desktop "
                "session, or use the command line (inpaint-studio --help)")
    return ""
