"""What a tool may touch of the editor: ``EditTarget``, not the whole window.

A tool reads the document, pushes finished gestures onto the history, asks whether a fill
is running, hands a heal stroke over to be filled and shows a status line; redrawing goes
through the ``view`` it is given with each event. The window builds one EditTarget from
its parts; a test builds one from a Document and a History.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from inpaint_studio.commands.history import History
from inpaint_studio.core.document import Document


def _no_heal(stroke: Any, footprint: np.ndarray) -> None:
    raise RuntimeError("this editor cannot heal")


class EditTarget:
    """The editor as tools see it. ``document``/``history`` are read when used, so a
    window that attaches its first photo later (or replaces it) needs no new target."""

    def __init__(self, document: Callable[[], Optional[Document]],
                 history: Callable[[], Optional[History]], *,
                 filling: Callable[[], bool] = lambda: False,
                 heal: Callable[[Any, np.ndarray], None] = _no_heal,
                 status: Callable[[str, int], None] = lambda text, ms: None) -> None:
        self._document = document
        self._history = history
        self._filling = filling
        self._heal = heal
        self._status = status

    @classmethod
    def of(cls, document: Document, history: Optional[History] = None, **kwargs: Any) -> "EditTarget":
        """A target over one document (and its history, a new one if not given)."""
        history = history if history is not None else History(document)
        return cls(lambda: document, lambda: history, **kwargs)

    @property
    def document(self) -> Document:
        doc = self._document()
        if doc is None:
            raise RuntimeError("no photo is open")
        return doc

    def push(self, command: Any) -> None:
        """Record a finished gesture as one undo step (None: nothing changed, nothing kept)."""
        history = self._history()
        if history is None:
            raise RuntimeError("no photo is open")
        history.push(command)

    @property
    def filling(self) -> bool:
        """A fill is running (the photo must not change under it)."""
        return self._filling()

    def heal(self, stroke: Any, footprint: np.ndarray) -> None:
        """Fill ``footprint`` now; the (not yet pushed) stroke and its fill become one step."""
        self._heal(stroke, footprint)

    def show_status(self, text: str, ms: int = 3000) -> None:
        self._status(text, ms)
