"""The rotating log file in the user data folder, where worker tracebacks go.

Modules log through ``logging.getLogger(__name__)``; ``setup()`` (called by the editor at
start) sends the ``inpaint_studio`` loggers to ``<user data>/logs/inpaint-studio.log``
(1 MB, three old files kept). A user started from a launcher never sees stderr."""
from __future__ import annotations

import logging
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Optional

from inpaint_studio import paths

LOGGER = "inpaint_studio"
FILE_NAME = "inpaint-studio.log"
MAX_BYTES = 1_000_000
BACKUPS = 3


def log_file() -> Path:
    return paths.user_data_dir() / "logs" / FILE_NAME


def setup(path: Optional[Path] = None) -> Optional[Path]:
    """Attach the file handler once; returns the file, or None if it cannot be written."""
    path = Path(path) if path is not None else log_file()
    logger = logging.getLogger(LOGGER)
    for handler in logger.handlers:
        if isinstance(handler, RotatingFileHandler) and Path(handler.baseFilename) == path.resolve():
            return path
    close()  # one log file at a time
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS,
                                      encoding="utf-8", delay=True)
    except OSError:
        return None  # a read-only home: no log file, nothing else changes
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)
    return path


def close() -> None:
    """Detach and close the file handlers ``setup`` attached (tests, shutdown)."""
    logger = logging.getLogger(LOGGER)
    for handler in [h for h in logger.handlers if isinstance(h, RotatingFileHandler)]:
        logger.removeHandler(handler)
        handler.close()
