"""The one engine contract.

fill(image, hole, sketch, params, ...) takes an RGB uint8 image (H, W, 3), a bool hole
mask (H, W) (True = fill here) and an optional bool sketch layer (H, W) (True = guide
line), and returns a new RGB uint8 (H, W, 3) array. Only pixels inside the hole may
differ from the input; the pipeline composites anyway. This module never imports torch.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Mapping, Optional

import numpy as np

from inpaint_studio.core.errors import UserError
from inpaint_studio.core.types import CancelToken, ProgressFn


@dataclass(frozen=True)
class ParamSpec:
    """One user-tunable engine parameter (the GUI builds a control from it)."""

    name: str
    label: str
    default: Any
    kind: str = "int"  # "int", "float", "bool" or "choice"
    minimum: Optional[float] = None
    maximum: Optional[float] = None
    choices: tuple = ()
    help: str = ""


@dataclass(frozen=True)
class EngineInfo:
    """What the pipeline, CLI and GUI need to know about an engine, without importing it."""

    name: str
    title: str
    description: str
    target: str  # "package.module:ClassName", imported on first use
    native_size: Optional[int] = None  # learned nets: the hole is resized to fit this
    pad_multiple: int = 1  # input height/width must be a multiple of this
    min_context: int = 32  # pixels of known context wanted around each hole
    uses_sketch: bool = False
    uses_avoid: bool = False  # honours the ``avoid`` mask (never samples there)
    uses_torch: bool = False
    weights: tuple[str, ...] = ()  # weight-manifest entries; any one installed is enough
    licence_note: str = ""
    params: tuple[ParamSpec, ...] = field(default_factory=tuple)

    def defaults(self) -> dict:
        return {p.name: p.default for p in self.params}


class Engine(ABC):
    """Base class for fill engines. Subclasses set ``info`` and implement ``fill``.

    Capabilities, declared by the class (the pipeline reads these, never probes methods):

    - ``can_refine``: has ``refine(image, hole, init, *, params, closeness, avoid, sketch,
      progress, cancel) -> RGB uint8``, which re-synthesises ``init``'s hole from the known
      pixels at this resolution (coarse-to-fine levels, ``pipeline.hires``);
    - ``refine_takes_nnf``: ``refine`` also takes ``nnf=`` (a starting field) and
      ``return_nnf=True`` (then returns ``(image, field)``);
    - ``fill_gives_nnf``: has ``fill_with_nnf(...)`` (``fill``'s arguments) returning
      ``(image, field)``, the field ``refine`` takes as ``nnf``;
    - ``convert_checkpoint``: None, or (engines with weight files) a staticmethod
      ``(checkpoint) -> (state_dict, layout)`` that imports a public checkpoint
      (``registry.converter`` hands it to ``engines.weights``).
    """

    info: EngineInfo
    can_refine: ClassVar[bool] = False
    refine_takes_nnf: ClassVar[bool] = False
    fill_gives_nnf: ClassVar[bool] = False
    convert_checkpoint: ClassVar[Optional[Callable[[Any], "tuple[dict, str]"]]] = None

    def __init__(self, device: str = "auto") -> None:
        self.device = device

    def load(self) -> None:
        """Load models/weights. Called once before the first fill; may be slow."""

    def unload(self) -> None:
        """Release models and device memory."""

    @abstractmethod
    def fill(
        self,
        image: np.ndarray,
        hole: np.ndarray,
        sketch: Optional[np.ndarray] = None,
        params: Optional[Mapping[str, Any]] = None,
        *,
        avoid: Optional[np.ndarray] = None,
        progress: Optional[ProgressFn] = None,
        cancel: Optional[CancelToken] = None,
    ) -> np.ndarray:
        """Return a filled copy of ``image`` (always one RGB uint8 array). ``avoid`` (bool
        H, W): never sample from here."""

    def merged_params(self, params: Optional[Mapping[str, Any]]) -> dict:
        merged = self.info.defaults()
        if params:
            unknown = set(params) - set(merged)
            if unknown:
                raise UserError(f"engine '{self.info.name}' has no parameter(s): {', '.join(sorted(unknown))}")
            merged.update(params)
        return merged


def check_inputs(image: np.ndarray, hole: np.ndarray, sketch: Optional[np.ndarray] = None,
                 avoid: Optional[np.ndarray] = None) -> None:
    """Validate the engine contract; raise UserError with both shapes on mismatch."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise UserError(f"engine input must be RGB uint8 (H, W, 3), got {image.dtype} {image.shape}")
    for name, layer in (("hole mask", hole), ("sketch", sketch), ("avoid mask", avoid)):
        if layer is None:
            continue
        if layer.shape != image.shape[:2]:
            raise UserError(
                f"{name} is {layer.shape[1]}x{layer.shape[0]} but the image is "
                f"{image.shape[1]}x{image.shape[0]}")
        if layer.dtype != np.bool_:
            raise UserError(f"{name} must be a bool array, got {layer.dtype}")
