"""Headless command line. Never imports Qt (the `edit` command imports the GUI lazily)."""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    print("inpaint-studio: not built yet", file=sys.stderr)
    return 2
