"""FillRequest: everything one fill needs, frozen, checked once; the editor and the CLI
build the same request and hand it to ``engines.host.EngineHost.fill``.

The arrays are held read-only (``FillRequest.snapshot`` copies them first, so later edits
of the caller's arrays cannot reach a running fill); ``params`` is a read-only mapping.
Building a request validates the feather and the hires mode (BadInput); the engine
name, device and params are checked by the host, which knows the engines.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping, Optional, Union, overload

import numpy as np

from inpaint_studio.core.errors import BadInput
from inpaint_studio.core.settings import MAX_FEATHER
from inpaint_studio.pipeline.run import HIRES_MODES

Feather = Union[int, str]  # pixels 0..MAX_FEATHER, or "auto" (pipeline.blend.auto_feather)


def parse_feather(value: object, what: str = "feather") -> Feather:
    """``value`` as a feather: a whole number of pixels from 0 to ``MAX_FEATHER`` (an int
    or a string of digits) or "auto"; BadInput naming ``what`` otherwise."""
    if value == "auto":
        return "auto"
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        pixels: Optional[int] = int(value)
    elif isinstance(value, str) and re.fullmatch(r"[0-9]{1,9}", value):
        pixels = int(value)
    else:
        pixels = None
    if pixels is None or not 0 <= pixels <= MAX_FEATHER:
        raise BadInput(f"{what} must be a number of pixels from 0 to {MAX_FEATHER} or auto, "
                       f"got '{value}'")
    return pixels


def read_only(array: Optional[np.ndarray]) -> Optional[np.ndarray]:
    """A read-only view of ``array`` (None stays None); the data is not copied."""
    if array is None:
        return None
    view: np.ndarray = np.asarray(array).view()
    view.flags.writeable = False
    return view


@overload
def frozen_copy(array: np.ndarray) -> np.ndarray: ...
@overload
def frozen_copy(array: None) -> None: ...
@overload
def frozen_copy(array: Optional[np.ndarray]) -> Optional[np.ndarray]: ...


def frozen_copy(array: Optional[np.ndarray]) -> Optional[np.ndarray]:
    """A private read-only copy, safe to hand to another thread."""
    if array is None:
        return None
    out = np.array(array, copy=True)
    out.flags.writeable = False
    return out


@dataclass(frozen=True, eq=False)
class FillRequest:
    """One fill: ``engine`` (registry name) fills ``hole`` in ``image`` (see
    ``pipeline.run.run_fill`` for the meaning of each field)."""

    engine: str
    image: np.ndarray
    hole: np.ndarray
    sketch: Optional[np.ndarray] = None
    device: str = "auto"
    params: Mapping[str, Any] = field(default_factory=dict)
    hires: str = "off"
    feather: Feather = 0
    colour_match: bool = False
    avoid: Optional[np.ndarray] = None  # never sampled (engines that declare uses_avoid)

    def __post_init__(self) -> None:
        if self.hires not in HIRES_MODES:
            raise BadInput(f"hires must be one of {', '.join(HIRES_MODES)}, got '{self.hires}'")
        object.__setattr__(self, "feather", parse_feather(self.feather))
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))
        object.__setattr__(self, "colour_match", bool(self.colour_match))
        for name in ("image", "hole", "sketch", "avoid"):
            object.__setattr__(self, name, read_only(getattr(self, name)))

    @classmethod
    def snapshot(cls, engine: str, image: np.ndarray, hole: np.ndarray,
                 sketch: Optional[np.ndarray] = None, **settings: Any) -> "FillRequest":
        """A request holding private copies of the arrays (later edits cannot reach it);
        ``settings``: the other fields (device, params, hires, feather, colour_match, avoid)."""
        avoid = settings.pop("avoid", None)
        return cls(engine=engine, image=frozen_copy(image), hole=frozen_copy(hole),
                   sketch=frozen_copy(sketch), avoid=frozen_copy(avoid), **settings)
