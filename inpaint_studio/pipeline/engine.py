"""What the pipeline uses from an engine, as typing Protocols (pipeline never imports engines).

``engines.base.Engine`` is the real contract (its docstring says what each capability
means); these Protocols name the part of it that ``run``, ``crop_fill`` and ``hires`` use,
so those modules are type-checked without the engines layer:

- ``Refiner``: ``refine_takes_nnf`` and ``refine`` (the coarse-to-fine levels, ``hires``);
  ``nnf=`` and ``return_nnf=`` are passed only when ``refine_takes_nnf`` is set, ``sketch=``
  only when there is a sketch.
- ``FillEngine``: ``info`` (name, native_size, pad_multiple, min_context), ``fill``, the
  flags ``can_refine`` and ``fill_gives_nnf``, and the methods they declare: ``refine``
  (a ``FillEngine`` is a ``Refiner``: ``hires`` uses the engine itself as its refiner when
  it can refine) and ``fill_with_nnf``. Those two exist only on engines that declare them
  (PatchMatch); the pipeline reads the flags and never calls an undeclared one. So an engine
  without them (``Engine`` itself, Telea) does not match ``FillEngine`` structurally; nothing
  checks that yet (mypy covers core, fileio, commands and pipeline, not engines).
"""
from __future__ import annotations

from typing import Any, Literal, Mapping, Optional, Protocol, overload

import numpy as np

from inpaint_studio.core.types import CancelToken, ProgressFn


class EngineSizes(Protocol):
    """The fields of ``engines.base.EngineInfo`` the pipeline reads."""

    @property
    def name(self) -> str: ...

    @property
    def native_size(self) -> Optional[int]: ...  # the crop is shrunk to fit this (None: any size)

    @property
    def pad_multiple(self) -> int: ...  # the engine's input height/width is a multiple of this

    @property
    def min_context(self) -> int: ...  # pixels of known context wanted around each hole


class Refiner(Protocol):
    """Re-synthesises a hole from an upsampled fill at one level (``hires``)."""

    @property
    def refine_takes_nnf(self) -> bool: ...  # refine takes nnf= and return_nnf=

    @overload
    def refine(self, image: np.ndarray, hole: np.ndarray, init: np.ndarray, *,
               params: Optional[Mapping[str, Any]] = ..., closeness: float = ...,
               avoid: Optional[np.ndarray] = ..., sketch: Optional[np.ndarray] = ...,
               nnf: Optional[np.ndarray] = ..., return_nnf: Literal[False] = ...,
               progress: Optional[ProgressFn] = ...,
               cancel: Optional[CancelToken] = ...) -> np.ndarray: ...

    @overload
    def refine(self, image: np.ndarray, hole: np.ndarray, init: np.ndarray, *,
               params: Optional[Mapping[str, Any]] = ..., closeness: float = ...,
               avoid: Optional[np.ndarray] = ..., sketch: Optional[np.ndarray] = ...,
               nnf: Optional[np.ndarray] = ..., return_nnf: Literal[True],
               progress: Optional[ProgressFn] = ...,
               cancel: Optional[CancelToken] = ...) -> tuple[np.ndarray, np.ndarray]: ...

    @overload
    def refine(self, image: np.ndarray, hole: np.ndarray, init: np.ndarray, *,
               params: Optional[Mapping[str, Any]] = ..., closeness: float = ...,
               avoid: Optional[np.ndarray] = ..., sketch: Optional[np.ndarray] = ...,
               nnf: Optional[np.ndarray] = ..., return_nnf: bool = ...,
               progress: Optional[ProgressFn] = ...,
               cancel: Optional[CancelToken] = ...) -> np.ndarray | tuple[np.ndarray, np.ndarray]: ...


class FillEngine(Refiner, Protocol):
    """An engine as ``run.run_fill``, ``crop_fill.fill_crop`` and ``hires`` use it."""

    @property
    def info(self) -> EngineSizes: ...

    @property
    def can_refine(self) -> bool: ...  # has ``refine`` (the other ``Refiner`` members)

    @property
    def fill_gives_nnf(self) -> bool: ...  # has ``fill_with_nnf``

    def fill(self, image: np.ndarray, hole: np.ndarray, sketch: Optional[np.ndarray] = None,
             params: Optional[Mapping[str, Any]] = None, *, avoid: Optional[np.ndarray] = None,
             progress: Optional[ProgressFn] = None,
             cancel: Optional[CancelToken] = None) -> np.ndarray:
        """A filled copy of ``image`` (RGB uint8, bool masks)."""
        ...

    def fill_with_nnf(self, image: np.ndarray, hole: np.ndarray, sketch: Optional[np.ndarray] = None,
                      params: Optional[Mapping[str, Any]] = None, *, avoid: Optional[np.ndarray] = None,
                      progress: Optional[ProgressFn] = None,
                      cancel: Optional[CancelToken] = None) -> tuple[np.ndarray, np.ndarray]:
        """``(filled image, field)``: source (y, x) per pixel, -1 away from the hole."""
        ...
