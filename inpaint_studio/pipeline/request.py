"""FillRequest: everything one fill needs, frozen, checked once; the editor and the CLI
build the same request and hand it to ``engines.host.EngineHost.fill``.

The arrays are held read-only (``FillRequest.snapshot`` copies them first, so later edits
of the caller's arrays cannot reach a running fill); ``params`` is a read-only mapping.
Building a request validates the feather and the hires mode (BadInput); the engine
name, device and params are checked by the host, which knows the engines.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping, Optional, overload

import numpy as np

from inpaint_studio.pipeline.blend import Feather, parse_feather
from inpaint_studio.pipeline.run import check_hires


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
        check_hires(self.hires)
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
