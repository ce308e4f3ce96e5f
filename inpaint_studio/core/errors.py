"""Errors meant for the user: one clear line, no traceback."""


class UserError(Exception):
    """A problem with the user's input or environment, shown as one line."""


class Cancelled(Exception):
    """Raised when a cancel token fires between steps of long work."""
