"""Every save: a temp file in the same folder, renamed over the target only when complete."""
from __future__ import annotations

import os
import secrets
from typing import BinaryIO, Callable

from inpaint_studio.core.errors import UserError
from inpaint_studio.fileio.formats import one_line


def atomic_write(path: str, write: Callable[[BinaryIO], object], overwrite: bool = True) -> None:
    """Call ``write(file)`` on a temp file beside ``path``, fsync it and rename it to ``path``.

    A failure removes the temp file and leaves an existing ``path`` untouched (UserError for
    OS and encoder errors). With ``overwrite=False`` an existing file, even one created
    meanwhile, is never replaced. A symlink is written through, keeping the link.
    """
    shown = path
    if os.path.islink(path):
        path = os.path.realpath(path)  # write through the link, keep it
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UserError(f"cannot save {shown}: the folder {folder} does not exist")
    name = os.path.basename(path).encode("utf-8", "surrogateescape")[:200]  # room for the suffix
    temp = os.path.join(folder, f".{name.decode('utf-8', 'ignore')}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise UserError(f"cannot save {path}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        if os.path.isfile(path):
            os.chmod(temp, os.stat(path).st_mode & 0o7777)
        if overwrite:
            os.replace(temp, path)
        else:
            _rename_no_replace(temp, path)
    except BaseException as exc:
        try:
            os.remove(temp)
        except OSError:
            pass
        if isinstance(exc, FileExistsError):
            raise UserError(f"{shown} already exists (it appeared while working)") from exc
        if isinstance(exc, (OSError, ValueError)):
            reason = getattr(exc, "strerror", None) or one_line(exc)
            raise UserError(f"cannot save {shown}: {reason}") from exc
        raise


def _rename_no_replace(temp: str, path: str) -> None:
    """Rename, failing with FileExistsError if ``path`` exists (a hard link is atomic)."""
    try:
        os.link(temp, path)
    except FileExistsError:
        raise
    except OSError:  # no hard links here (FAT, some network shares): check, then rename
        if os.path.lexists(path):
            raise FileExistsError(path) from None
        os.replace(temp, path)
        return
    os.remove(temp)
