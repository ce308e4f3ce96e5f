"""Every window action is declared here with its shortcut, so the help dialog lists them all,
and reached as a typed attribute of ``Actions`` (``window.act.undo``), never by a string key."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import qtawesome as qta
from PySide6.QtGui import QAction, QKeySequence

# (name, text, shortcut(s), icon, tip, checkable). Shortcut strings use QKeySequence syntax.
ACTIONS = (
    ("open", "&Open…", "Ctrl+O", "fa5s.folder-open", "Open a photo", False),
    ("save", "&Save", "Ctrl+S", "fa5s.save", "Save (asks before overwriting the original)", False),
    ("save_as", "Save &As…", "Ctrl+Shift+S", None, "Save to a new file", False),
    ("import_mask", "&Import Mask…", "Ctrl+Shift+I", None, "Load a mask image", False),
    ("export_mask", "E&xport Mask…", "Ctrl+Shift+E", None, "Save the mask as a PNG", False),
    ("import_weights", "Import &Weights…", "Ctrl+Shift+W", "fa5s.file-import",
     "Install a PEN-Net or DeepFill v2 checkpoint (.pth) for a learned engine", False),
    ("quit", "&Quit", "Ctrl+Q", None, "Quit", False),
    ("undo", "&Undo", "Ctrl+Z", "fa5s.undo", "Undo", False),
    ("redo", "&Redo", ("Ctrl+Shift+Z", "Ctrl+Y"), "fa5s.redo", "Redo", False),
    ("clear_mask", "&Clear Mask", "Ctrl+D", "fa5s.eraser", "Remove the whole mask", False),
    ("invert_mask", "&Invert Mask", "Ctrl+I", "fa5s.adjust", "Invert the mask", False),
    ("grow_mask", "&Grow / Shrink Mask…", "Ctrl+G", "fa5s.expand-arrows-alt", "Grow or shrink the mask", False),
    ("clear_sketch", "Clear S&ketch", "Ctrl+Shift+D", None, "Remove all guide lines", False),
    ("zoom_in", "Zoom &In", ("Ctrl++", "Ctrl+=", "+"), "fa5s.search-plus", "Zoom in", False),
    ("zoom_out", "Zoom &Out", ("Ctrl+-", "-"), "fa5s.search-minus", "Zoom out", False),
    ("zoom_fit", "&Fit to Window", ("Ctrl+0", "0"), "fa5s.compress", "Fit the photo in the window", False),
    ("zoom_100", "&Actual Pixels (100 %)", "Ctrl+1", None, "One image pixel per screen pixel", False),
    ("show_mask", "Show &Mask", "M", "fa5s.eye", "Show or hide the mask overlay", True),
    ("show_sketch", "Show S&ketch", "K", None, "Show or hide the sketch layer", True),
    ("compare", "Compare with &Original", "C", "fa5s.image", "Toggle the original (before fills)", True),
    ("split", "S&plit Before/After", "Shift+C", "fa5s.columns", "Original on the left, result on the right", True),
    ("tool_brush", "&Brush", "B", "fa5s.paint-brush", "Paint the mask (hole)", True),
    ("tool_eraser", "&Eraser", "E", "fa5s.eraser", "Erase the mask", True),
    ("tool_lasso", "&Lasso", "L", "fa5s.draw-polygon", "Freehand lasso (Alt or Ctrl: subtract)", True),
    ("tool_polygon", "&Polygon Lasso", "P", "fa5s.vector-square",
     "Click points, double-click or Enter to close (Alt or Ctrl: subtract)", True),
    ("tool_rect", "&Rectangle", "R", "fa5.square", "Rectangle selection (Alt or Ctrl: subtract)", True),
    ("tool_sketch", "S&ketch Pen", "S", "fa5s.pen", "Draw guide lines", True),
    ("tool_sketch_eraser", "Sketch Eraser", "Shift+S", "fa5s.pen-fancy", "Erase guide lines", True),
    ("tool_smart", "S&mart Select", "W", "fa5s.crosshairs",
     "Drag a box around an object (Shift+drag: scribble on it) to select it (Alt or Ctrl: subtract)", True),
    ("tool_sample", "Sampling &Area Brush", "X", "fa5s.ban",
     "Paint where fills must not copy from (or, in 'only' mode, the only area they copy from)", True),
    ("tool_sample_eraser", "Sampling Area Eraser", "Shift+X", "fa5s.broom", "Erase the sampling area", True),
    ("tool_heal", "&Heal Brush", "H", "fa5s.band-aid",
     "Paint over a speck or scratch: it is filled as soon as you let go (one undo step)", True),
    ("detect_damage", "Detect &Scratches && Dust…", "Ctrl+Shift+R", "fa5s.search",
     "Propose a mask of the scratches and dust of an old photo", False),
    ("brush_smaller", "Smaller Brush", "[", None, "Make the brush smaller", False),
    ("brush_bigger", "Bigger Brush", "]", None, "Make the brush bigger", False),
    ("run", "&Run Fill", ("Ctrl+Return", "Ctrl+Enter"), "fa5s.magic", "Fill the masked area", False),
    ("cancel", "&Cancel Fill", "Esc", "fa5s.stop", "Stop the running fill", False),
    ("try_again", "&Try Again", "Ctrl+Shift+Return", "fa5s.redo-alt",
     "Fill the same hole again with the next seed (the last three results are kept)", False),
    ("variation_1", "Show Variation &1", "1", None, "Show the first kept result", True),
    ("variation_2", "Show Variation &2", "2", None, "Show the second kept result", True),
    ("variation_3", "Show Variation &3", "3", None, "Show the third kept result", True),
    ("keep_variation", "&Keep Variation", "Ctrl+K", "fa5s.check",
     "Keep the result shown (one undo step) and forget the others", False),
    ("sample_only", "Sample &Only From Painted Area", "Ctrl+Shift+X", None,
     "The sampling area marks the only place fills copy from (off: the place they never copy from)", True),
    ("help", "&Keyboard Shortcuts", ("F1", "?"), "fa5s.keyboard", "List every shortcut", False),
    ("about", "&About", None, "fa5s.info-circle", "About Inpaint Studio", False),
)

HOLD_COMPARE_KEY = "\\"  # hold to see the original


def icon(name: Optional[str]):
    from PySide6.QtGui import QIcon

    if not name:
        return QIcon()
    try:
        return qta.icon(name, color="#d8d8dc", color_disabled="#6a6a70")
    except Exception:  # unknown icon name in an older qtawesome: no icon, not a crash
        return QIcon()


def new_action(parent, text: str, shortcut=None, icon_name: Optional[str] = None, tip: str = "",
               checkable: bool = False, slot: Optional[Callable] = None) -> QAction:
    """One QAction with its shortcut(s), icon and tooltip."""
    action = QAction(icon(icon_name), text, parent)
    if shortcut:
        keys = (shortcut,) if isinstance(shortcut, str) else shortcut
        action.setShortcuts([QKeySequence(k) for k in keys])
        tip = f"{tip}  ({keys[0]})" if tip else keys[0]
    action.setToolTip(tip)
    action.setStatusTip(tip)
    action.setCheckable(checkable)
    if slot is not None:
        action.triggered.connect(slot)
    return action


@dataclass(frozen=True)
class Actions:
    """The window's actions, one typed attribute per row of ``ACTIONS`` (``window.act.run``);
    a tool's action has the tool's id as its name (``named("tool_brush")``)."""

    open: QAction
    save: QAction
    save_as: QAction
    import_mask: QAction
    export_mask: QAction
    import_weights: QAction
    quit: QAction
    undo: QAction
    redo: QAction
    clear_mask: QAction
    invert_mask: QAction
    grow_mask: QAction
    clear_sketch: QAction
    zoom_in: QAction
    zoom_out: QAction
    zoom_fit: QAction
    zoom_100: QAction
    show_mask: QAction
    show_sketch: QAction
    compare: QAction
    split: QAction
    tool_brush: QAction
    tool_eraser: QAction
    tool_lasso: QAction
    tool_polygon: QAction
    tool_rect: QAction
    tool_sketch: QAction
    tool_sketch_eraser: QAction
    tool_smart: QAction
    tool_sample: QAction
    tool_sample_eraser: QAction
    tool_heal: QAction
    detect_damage: QAction
    brush_smaller: QAction
    brush_bigger: QAction
    run: QAction
    cancel: QAction
    try_again: QAction
    variation_1: QAction
    variation_2: QAction
    variation_3: QAction
    keep_variation: QAction
    sample_only: QAction
    help: QAction
    about: QAction

    @property
    def variations(self) -> tuple[QAction, QAction, QAction]:
        return self.variation_1, self.variation_2, self.variation_3

    def named(self, name: str) -> QAction:
        """The action called ``name`` (a tool id such as "tool_brush"); KeyError if none."""
        if name not in _NAMES:
            raise KeyError(name)
        action: QAction = getattr(self, name)
        return action

    def all(self) -> list[QAction]:
        """Every action, in ``ACTIONS`` order."""
        return [getattr(self, name) for name in _NAMES]


_NAMES = tuple(row[0] for row in ACTIONS)


def build_actions(parent) -> Actions:
    return Actions(**{name: new_action(parent, text, keys, icon_name, tip, checkable)
                      for name, text, keys, icon_name, tip, checkable in ACTIONS})


def shortcut_table() -> list[tuple[str, str]]:
    """(action, keys) rows for the help dialog, plus mouse gestures."""
    rows = []
    for _, text, keys, _, _, _ in ACTIONS:
        if keys:
            keys = (keys,) if isinstance(keys, str) else keys
            label = text.replace("&&", "\0").replace("&", "").replace("\0", "&")
            rows.append((label.rstrip("…"), ", ".join(keys)))
    rows += [
        ("Hold to see the original", HOLD_COMPARE_KEY),
        ("Pan", "Space + drag, middle button, scroll bars"),
        ("Zoom around the cursor", "Mouse wheel"),
        ("Scroll", "Ctrl + wheel (vertical), Shift + wheel (horizontal)"),
        ("Subtract with lasso/polygon/rectangle/smart select", "Hold Alt or Ctrl while starting"),
        ("Smart select by scribbling on the object", "Shift + drag with Smart Select"),
        ("Finish polygon lasso", "Double-click or Enter (Backspace removes a point)"),
        ("Abort a stroke or polygon", "Right button or Esc"),
        ("Old photo: detect, set the slider, Apply, touch up, Fill", "Ctrl+Shift+R, B / E, Ctrl+Return"),
        ("Heal one speck or scratch (filled on release)", "H, then paint over it"),
    ]
    return rows
