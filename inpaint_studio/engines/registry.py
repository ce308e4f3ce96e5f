"""Engine names -> lazily imported classes. Listing engines never imports torch."""
from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from typing import TYPE_CHECKING

from inpaint_studio.core.errors import UserError
from inpaint_studio.engines import weights
from inpaint_studio.engines.base import EngineInfo, ParamSpec

if TYPE_CHECKING:
    from inpaint_studio.engines.base import Engine

DEFAULT_ENGINE = "patchmatch"

_SEED = ParamSpec("seed", "Seed", 0, "int", 0, 2**31 - 1, help="Same seed, same fill.")
_HALF = ParamSpec("half_precision", "Half precision", False, "bool",
                  help="fp16 on CUDA / bf16 on CPU: faster on recent hardware, slightly different fill.")

ENGINES: dict[str, EngineInfo] = {
    info.name: info
    for info in (
        EngineInfo(
            name="patchmatch",
            title="PatchMatch",
            description="Texture synthesis from the rest of the photo (no download needed).",
            target="inpaint_studio.engines.patchmatch:PatchMatchEngine",
            min_context=64,
            uses_sketch=True,
            uses_avoid=True,
            uses_torch=True,
            params=(
                _SEED,
                ParamSpec("patch_size", "Patch size", 7, "int", 3, 15, help="Odd patch width in pixels."),
                ParamSpec("iterations", "EM iterations", 4, "int", 1, 20,
                          help="Completion iterations per pyramid level (x2 coarsest, /2 finest)."),
                ParamSpec("sketch_weight", "Sketch weight", 1.0, "float", 0.0, 10.0,
                          help="How strongly guide lines steer the fill."),
            ),
        ),
        EngineInfo(
            name="telea",
            title="Telea (fast)",
            description="Fast marching fill for thin scratches and small spots (OpenCV).",
            target="inpaint_studio.engines.smooth:TeleaEngine",
            min_context=8,
            params=(ParamSpec("radius", "Radius", 5, "int", 1, 50),),
        ),
        EngineInfo(
            name="ns",
            title="Navier-Stokes (fast)",
            description="Fluid-based fill for thin scratches and small spots (OpenCV).",
            target="inpaint_studio.engines.smooth:NavierStokesEngine",
            min_context=8,
            params=(ParamSpec("radius", "Radius", 5, "int", 1, 50),),
        ),
        EngineInfo(
            name="pennet",
            title="PEN-Net",
            description="Pyramid-context encoder network (Zeng et al., CVPR 2019); fills at 256 px.",
            target="inpaint_studio.engines.pennet:PenNetEngine",
            native_size=256,
            pad_multiple=64,
            min_context=64,
            uses_torch=True,
            weights=("pennet-ours", "pennet-places2"),
            params=(_HALF,),
        ),
        EngineInfo(
            name="gated",
            title="Gated convolution (DeepFill v2)",
            description="Gated convolutions with contextual attention (Yu et al., ICCV 2019); fills at 512 px; "
                        "follows sketch lines with sketch-guided weights.",
            target="inpaint_studio.engines.gated.engine:GatedEngine",
            native_size=512,
            pad_multiple=8,
            min_context=128,
            uses_sketch=True,
            uses_torch=True,
            weights=("gated-sketch-ours", "deepfill2-places2-tf", "deepfill2-places2-pt"),
            licence_note="The public DeepFill v2 weights are CC BY-NC 4.0: non-commercial use only.",
            params=(_HALF,),
        ),
    )
}


@dataclass(frozen=True)
class Readiness:
    ready: bool
    reason: str = ""


def engine_names() -> list[str]:
    return list(ENGINES)


def get_info(name: str) -> EngineInfo:
    try:
        return ENGINES[name]
    except KeyError:
        raise UserError(f"unknown engine '{name}' (available: {', '.join(ENGINES)})") from None


def readiness(name: str) -> Readiness:
    """Can this engine run here? Checks imports and weight files without importing torch."""
    info = get_info(name)
    if info.uses_torch and importlib.util.find_spec("torch") is None:
        return Readiness(False, "PyTorch is not installed: pip install torch")
    if info.weights:  # alternatives: any one installed weight file is enough
        reason = weights.best_missing_reason(info.weights)
        if reason:
            return Readiness(False, reason)
    return Readiness(True)


def create(name: str, device: str = "auto") -> "Engine":
    """Instantiate the engine class for ``name`` (imports its module now)."""
    state = readiness(name)
    if not state.ready:
        raise UserError(f"engine '{name}' is not ready: {state.reason}")
    return engine_class(name)(device=device)


def engine_class(name: str) -> "type[Engine]":
    """The engine class for ``name`` (imports its module now; may import torch)."""
    module_name, _, class_name = get_info(name).target.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def converter(name: str) -> weights.Converter:
    """The engine's ``convert_checkpoint``, which ``weights.import_checkpoint`` and
    ``weights.download`` take as ``convert=`` (UserError if the engine takes no weights)."""
    if not get_info(name).weights:
        raise UserError(f"engine '{name}' uses no weight files")
    convert = engine_class(name).convert_checkpoint
    if convert is None:
        raise UserError(f"engine '{name}' cannot import checkpoints yet")
    return convert


def refiner_for(engine: "Engine", device: str = "auto") -> "Engine":
    """The engine that sharpens coarse-to-fine fills: ``engine`` itself if it can refine,
    else a PatchMatch engine on the same device."""
    return engine if engine.can_refine else create("patchmatch", device)
