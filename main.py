"""Start Inpaint Studio: `python main.py [photo]`."""
import sys

from inpaint_studio.cli import main

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:] or ["edit"]))
