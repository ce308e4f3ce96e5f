"""Where bundled resources and weights live (override with INPAINT_STUDIO_WEIGHTS)."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESOURCES = ROOT / "resources"


def weights_dir() -> Path:
    """Folder holding the weights manifest and installed weight files."""
    override = os.environ.get("INPAINT_STUDIO_WEIGHTS")
    return Path(override) if override else ROOT / "weights"


def user_weights_dir() -> Path:
    """Folder for weights the user imports or downloads (override with INPAINT_STUDIO_USER_WEIGHTS)."""
    override = os.environ.get("INPAINT_STUDIO_USER_WEIGHTS")
    if override:
        return Path(override)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "inpaint-studio" / "weights"
