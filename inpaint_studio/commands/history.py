"""Linear undo history of a Document (Qt-free; QUndoStack vocabulary).

``History(doc, byte_budget=256 MiB, min_steps=10)``

- ``push(cmd)``: record an already-applied command (None is ignored); drops the
  redo steps, merges into the top step when both share a ``merge_id`` (and the
  top is not the clean state), then drops the oldest steps while ``nbytes`` is over
  the budget, always keeping at least ``min_steps``;
- ``undo()`` / ``redo()`` -> bool, ``can_undo`` / ``can_redo``,
  ``undo_text`` / ``redo_text`` (for "Undo Brush stroke" menu items);
- ``steps``: the texts, oldest first; ``index``: how many are applied
  (0 = the start state, like QUndoStack.index); ``goto(index)`` jumps there;
- ``clean`` / ``set_clean()`` (call after saving); ``doc.modified`` is kept equal to
  ``not clean``; dropping the clean step makes the history never clean again;
  ``photo_modified``: only steps that changed the image layer count (what Save writes);
- ``begin_macro(text)`` ... ``end_macro()``: pushes in between become one step;
- ``listen(fn)``: ``fn()`` after any change (returns an unsubscribe function);
- ``clear()``: forget everything (done automatically when the document is replaced).

An unfinished stroke must be ended or cancelled before undo/redo/goto.
"""
from __future__ import annotations

from typing import Callable, Optional

from inpaint_studio.commands.edits import Command, Macro, touches
from inpaint_studio.core.document import Document

DEFAULT_BUDGET = 256 * 1024 * 1024


class History:
    def __init__(self, document: Document, byte_budget: int = DEFAULT_BUDGET, min_steps: int = 10) -> None:
        self.doc = document
        self.byte_budget = int(byte_budget)
        self.min_steps = int(min_steps)
        self._cmds: list[Command] = []
        self._index = 0
        self._clean: Optional[int] = 0
        self._listeners: list[Callable[[], None]] = []
        self._macro: Optional[tuple[str, list[Command]]] = None
        document.listen_replaced(self.clear)

    # -- state ----------------------------------------------------------------
    @property
    def steps(self) -> list[str]:
        return [c.text for c in self._cmds]

    @property
    def index(self) -> int:
        return self._index

    @property
    def commands(self) -> list[Command]:
        return list(self._cmds)

    @property
    def can_undo(self) -> bool:
        return self._index > 0 and self._macro is None

    @property
    def can_redo(self) -> bool:
        return self._index < len(self._cmds) and self._macro is None

    @property
    def undo_text(self) -> str:
        return self._cmds[self._index - 1].text if self._index > 0 else ""

    @property
    def redo_text(self) -> str:
        return self._cmds[self._index].text if self._index < len(self._cmds) else ""

    @property
    def nbytes(self) -> int:
        return sum(c.nbytes for c in self._cmds)

    @property
    def clean(self) -> bool:
        return self._clean == self._index

    @property
    def photo_modified(self) -> bool:
        """True when the photo's pixels differ from the clean (saved) state. Mask and sketch
        edits are not saved with the photo, so they alone never ask for a save."""
        if self._clean is None:
            return True
        low, high = sorted((self._clean, self._index))
        return any(touches(c, "image") for c in self._cmds[low:high])

    def set_clean(self) -> None:
        self._clean = self._index
        self._changed()

    # -- listeners ------------------------------------------------------------
    def listen(self, fn: Callable[[], None]) -> Callable[[], None]:
        self._listeners.append(fn)
        return lambda: self._listeners.remove(fn) if fn in self._listeners else None

    def _changed(self) -> None:
        self.doc.modified = not self.clean
        for fn in list(self._listeners):
            fn()

    # -- editing --------------------------------------------------------------
    def push(self, cmd: Optional[Command]) -> None:
        if cmd is None:
            return
        if self._macro is not None:
            self._macro[1].append(cmd)
            return
        del self._cmds[self._index:]
        if self._clean is not None and self._clean > self._index:
            self._clean = None  # the clean state was in the dropped redo steps
        top = self._cmds[-1] if self._cmds else None
        if top is not None and self._clean != self._index and top.merge(cmd):
            pass
        else:
            self._cmds.append(cmd)
            self._index += 1
        self._trim()
        self._changed()

    def _trim(self) -> None:
        total = self.nbytes
        while total > self.byte_budget and len(self._cmds) > self.min_steps and self._index > 0:
            total -= self._cmds.pop(0).nbytes
            self._index -= 1
            if self._clean is not None:
                self._clean = self._clean - 1 if self._clean > 0 else None

    def begin_macro(self, text: str) -> None:
        if self._macro is not None:
            raise RuntimeError("a macro is already open")
        self._macro = (text, [])

    def end_macro(self) -> None:
        if self._macro is None:
            raise RuntimeError("no macro is open")
        text, cmds = self._macro
        self._macro = None
        if cmds:
            self.push(Macro(text, cmds))

    def undo(self) -> bool:
        if not self.can_undo:
            return False
        self._index -= 1
        self._cmds[self._index].undo(self.doc)
        self._changed()
        return True

    def redo(self) -> bool:
        if not self.can_redo:
            return False
        self._cmds[self._index].redo(self.doc)
        self._index += 1
        self._changed()
        return True

    def goto(self, index: int) -> None:
        """Undo or redo until ``index`` steps are applied."""
        if self._macro is not None:
            raise RuntimeError("cannot jump while a macro is open")
        index = max(0, min(int(index), len(self._cmds)))
        if index == self._index:
            return
        while self._index > index:
            self._index -= 1
            self._cmds[self._index].undo(self.doc)
        while self._index < index:
            self._cmds[self._index].redo(self.doc)
            self._index += 1
        self._changed()

    def clear(self) -> None:
        self._cmds.clear()
        self._index = 0
        self._clean = 0
        self._macro = None
        self._changed()
