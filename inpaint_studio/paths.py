"""Where bundled resources and weights live (override with INPAINT_STUDIO_WEIGHTS).

In a source checkout they are the top-level ``resources/`` and ``weights/`` folders; a
wheel carries them inside the package (``inpaint_studio/resources``, ``.../weights``, see
setup.py)."""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def _data(name: str) -> Path:
    inside = PACKAGE / name  # installed from a wheel
    return inside if inside.is_dir() else PACKAGE.parent / name


RESOURCES = _data("resources")


def weights_dir() -> Path:
    """Folder holding the weights manifest and bundled weight files."""
    override = os.environ.get("INPAINT_STUDIO_WEIGHTS")
    return Path(override) if override else _data("weights")


def user_data_dir() -> Path:
    """Per-user data folder: ``$XDG_DATA_HOME/inpaint-studio`` (default ``~/.local/share``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "inpaint-studio"


def user_weights_dir() -> Path:
    """Folder for weights the user imports or downloads (override with INPAINT_STUDIO_USER_WEIGHTS)."""
    override = os.environ.get("INPAINT_STUDIO_USER_WEIGHTS")
    return Path(override) if override else user_data_dir() / "weights"
