"""SIGTERM and SIGHUP end the command line the way Ctrl+C does: as an exception, so every
``finally`` (the removal of a half-written temp file above all) runs before the exit."""
from __future__ import annotations

import contextlib
import signal
import threading


class Signalled(KeyboardInterrupt):
    """Raised in the main thread when the process is told to stop."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise(signum, _frame) -> None:
    raise Signalled(signum)


STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


@contextlib.contextmanager
def stop_signals_raise():
    """While inside, SIGTERM/SIGHUP raise Signalled; the old handlers come back after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {sig: signal.signal(sig, _raise) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def exit_code(exc: KeyboardInterrupt) -> int:
    """128 + the signal's number, as shells report a process killed by it (130 for Ctrl+C)."""
    return 128 + (exc.signum if isinstance(exc, Signalled) else signal.SIGINT)


def quiet_exit() -> None:
    """The work is done: a late Ctrl+C or SIGTERM must not print a traceback at exit."""
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT,) + STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
