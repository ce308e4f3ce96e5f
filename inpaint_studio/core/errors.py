"""Errors meant for the user: one clear line, no traceback.

``UserError`` is the base (exit 2 unless a subclass says otherwise): ``BadInput`` for a
problem with what the user gave (exit 2), ``NotReady`` for something this install or
machine lacks (weights, a GPU, a display library; exit 1). Contract breaks by our own code
are ``ValueError``/``TypeError``, not user errors."""


class UserError(Exception):
    """A problem with the user's input or environment, shown as one line."""

    exit_code = 2


class BadInput(UserError):
    """The user's input (a file, an option, a mask) cannot be used."""

    exit_code = 2


class NotReady(UserError):
    """The input is fine but something it needs is not installed or not available here."""

    exit_code = 1


class Cancelled(Exception):
    """Raised when a cancel token fires between steps of long work."""


def one_line(error: BaseException) -> str:
    """How an exception is shown to the user: its own line for user errors and for a
    MemoryError with a message, else ``TypeName: message``."""
    if isinstance(error, UserError):
        return str(error)
    if isinstance(error, MemoryError):
        return str(error) or "Out of memory"
    return f"{type(error).__name__}: {error}"
