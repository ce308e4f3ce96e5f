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
