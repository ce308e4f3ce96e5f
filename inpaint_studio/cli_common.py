"""What the CLI's commands share: the one-line error and warning format, ``Failed`` (a
runtime failure with its exit code), ``runtime_step``, the progress bar and which files
are photos. ``cli`` (the commands and the parser) and ``cli_damage`` both import it, so
neither imports the other for these. Never imports Qt.
"""
from __future__ import annotations

import contextlib
import sys
from pathlib import Path

from inpaint_studio.core.errors import UserError

PROG = "inpaint-studio"


def image_suffixes() -> set[str]:
    from inpaint_studio.fileio import EXTENSIONS

    return set(EXTENSIONS)


def is_image(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in image_suffixes() and not path.name.startswith(".")


class Failed(Exception):
    """A one-line error with its exit code (1: runtime failure, 2: usage/input)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


@contextlib.contextmanager
def runtime_step():
    """Report UserErrors raised inside as runtime failures (exit 1), not input errors."""
    try:
        yield
    except UserError as exc:
        raise Failed(str(exc), 1) from exc


def error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


def warn(message: str) -> None:
    print(f"{PROG}: warning: {message}", file=sys.stderr)


class ProgressBar:
    """Plain-text progress on stderr: ``[#####     ]  12/40 name.jpg``, redrawn with \\r on a
    terminal; elsewhere (a log file, a pipe) one line per item, or per tenth of a single one."""

    def __init__(self, total: int, width: int = 24, stream=None) -> None:
        self.total, self.width = total, width
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last = ""
        self._step = None

    def update(self, done: float, label: str = "") -> None:
        fraction = min(max(done / self.total, 0.0), 1.0) if self.total else 1.0
        filled = int(round(fraction * self.width))
        count = f"{int(done)}/{self.total}" if self.total > 1 else f"{int(fraction * 100):3d}%"
        line = f"[{'#' * filled}{' ' * (self.width - filled)}] {count} {label}".rstrip()
        if not self.tty:
            step = int(done) if self.total > 1 else int(fraction * 10)
            if step != self._step:
                self._step = step
                self.stream.write(line + "\n")
                self.stream.flush()
            return
        if line != self._last:
            pad = " " * max(0, len(self._last) - len(line))
            self.stream.write("\r" + line + pad)
            self.stream.flush()
            self._last = line

    def finish(self) -> None:
        """End the bar's line so the next message starts on a fresh one."""
        if self._last:
            self.stream.write("\n")
            self.stream.flush()
            self._last = ""
