"""Common base of the torch engines (PEN-Net, gated convolution).

A subclass sets ``info`` (its ``weights`` lists manifest entries, first installed wins) and
implements:

- ``build_network() -> torch.nn.Module`` (random init, our key layout);
- ``run_network(net, image, hole, sketch, params, check) -> tensor``: image (1, 3, H, W) in
  [-1, 1], hole (1, 1, H, W) float (1 = hole), sketch (1, 1, H, W) float or None; returns
  the network's RGB prediction (1, 3, H, W) in [-1, 1]; ``check()`` raises Cancelled;
- ``convert_checkpoint(checkpoint) -> (state_dict, layout)`` staticmethod, used by
  engines/weights.py to import a public checkpoint (use ``match_state_dict``).

The pipeline has already cropped, resized to ``info.native_size`` and padded to
``info.pad_multiple``. The model stays loaded between fills; ``unload()`` frees it.
Parameter ``half_precision`` (registry's _HALF) runs under torch.autocast: fp16 on CUDA,
bf16 on CPUs with native bf16 (ignored on other CPUs, where bf16 is emulated and slow).
A CUDA out-of-memory error retries once in half precision, then runs that fill on the CPU
(progress message "GPU out of memory, continuing on CPU").
"""
from __future__ import annotations

from abc import abstractmethod
from contextlib import nullcontext
from typing import Any, Callable, Mapping, Optional

import numpy as np
import torch

from inpaint_studio.core.errors import NotReady, UserError
from inpaint_studio.core.types import CancelToken, ProgressFn, check_cancel
from inpaint_studio.engines import weights
from inpaint_studio.engines.base import Engine, check_inputs
from inpaint_studio.engines.device import is_out_of_memory, pick_device

OOM_MESSAGE = "GPU out of memory, continuing on CPU"


def match_state_dict(state: Mapping[str, Any], expected: Mapping[str, tuple], what: str) -> dict:
    """Return ``state`` as a plain dict if its keys and shapes equal ``expected`` exactly,
    else raise UserError naming the first few differences."""
    if not isinstance(state, Mapping) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise UserError(f"{what}: not a state_dict of tensors")
    missing = [k for k in expected if k not in state]
    extra = [k for k in state if k not in expected]
    wrong = [f"{k} {tuple(state[k].shape)} (want {tuple(expected[k])})"
             for k in expected if k in state and tuple(state[k].shape) != tuple(expected[k])]
    problems = []
    for label, items in (("missing", missing), ("unexpected", extra), ("wrong shape", wrong)):
        if items:
            more = f" and {len(items) - 3} more" if len(items) > 3 else ""
            problems.append(f"{len(items)} {label}: {', '.join(items[:3])}{more}")
    if problems:
        raise UserError(f"{what} does not match the network ({'; '.join(problems)})")
    return dict(state)


def shapes_of(net: torch.nn.Module) -> dict:
    """{key: shape} of a module's state_dict."""
    return {k: tuple(v.shape) for k, v in net.state_dict().items()}


def to_tensors(image: np.ndarray, hole: np.ndarray, sketch: Optional[np.ndarray], device):
    """uint8 RGB + bool masks -> (image in [-1, 1], hole 0/1, sketch 0/1 or None), NCHW float32."""
    img = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float()
    img = (img / 127.5 - 1.0).to(device)
    m = torch.from_numpy(hole.astype(np.float32))[None, None].to(device)
    s = None if sketch is None else torch.from_numpy(sketch.astype(np.float32))[None, None].to(device)
    return img, m, s


def to_uint8(pred: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) in [-1, 1] -> (H, W, 3) uint8."""
    x = ((pred[0].float().clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8)
    return x.permute(1, 2, 0).cpu().numpy()


def half_supported(device: torch.device) -> bool:
    """fp16 on CUDA; bf16 on CPUs with native bf16 (elsewhere it is emulated and far slower)."""
    if device.type == "cuda":
        return True
    return device.type == "cpu" and bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


class LearnedEngine(Engine):
    """Device choice, weight loading, pre/post-processing and OOM fallback for torch nets."""

    def __init__(self, device: str = "auto") -> None:
        super().__init__(device)
        self.net: Optional[torch.nn.Module] = None
        self.torch_device: Optional[torch.device] = None
        self.weights_name = ""  # the manifest entry that was loaded

    # ---- subclass hooks
    @abstractmethod
    def build_network(self) -> torch.nn.Module:
        """A randomly initialised network with our state_dict layout."""

    @abstractmethod
    def run_network(self, net: torch.nn.Module, image: torch.Tensor, hole: torch.Tensor,
                    sketch: Optional[torch.Tensor], params: dict,
                    check: Callable[[], None]) -> torch.Tensor:
        """Forward pass; see the module docstring."""

    # ---- loading
    def load(self) -> None:
        """Load the first installed weight entry of ``info.weights`` (NotReady if none)."""
        if self.net is not None:
            return
        problems = []
        for entry in self.info.weights:
            reason = weights.missing_reason(entry)
            if not reason:
                self.load_state(weights.load_state_dict(entry, device="cpu"))
                self.weights_name = entry
                return
            problems.append(reason)
        raise NotReady(problems[0] if problems else f"engine '{self.info.name}' lists no weights")

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Build the network, load ``state`` strictly and move it to the device."""
        self.torch_device = pick_device(self.device)
        net = self.build_network()
        net.load_state_dict(match_state_dict(state, shapes_of(net), f"{self.info.title} weights"))
        self.net = net.eval().to(self.torch_device)

    def unload(self) -> None:
        on_cuda = self.torch_device is not None and self.torch_device.type == "cuda"
        self.net = None
        self.weights_name = ""
        if on_cuda:
            torch.cuda.empty_cache()

    # ---- filling
    def fill(self, image, hole, sketch=None, params=None, *, avoid=None,
             progress: Optional[ProgressFn] = None, cancel: Optional[CancelToken] = None) -> np.ndarray:
        check_inputs(image, hole, sketch, avoid)
        merged = self.merged_params(params)
        report = progress or (lambda fraction, message: None)
        if not hole.any():
            return image.copy()
        if self.net is None:
            report(0.0, f"Loading {self.info.title}")
            self.load()
        check_cancel(cancel)
        report(0.1, f"Running {self.info.title}")
        pred = self._run_with_fallback(image, hole, sketch, merged, report, lambda: check_cancel(cancel))
        out = image.copy()
        out[hole] = to_uint8(pred)[hole]
        report(1.0, "Done")
        return out

    def _forward(self, device, half: bool, image, hole, sketch, params, check) -> torch.Tensor:
        img, m, s = to_tensors(image, hole, sketch, device)
        autocast = nullcontext()
        if half and half_supported(device):
            autocast = torch.autocast(device.type, dtype=torch.float16 if device.type == "cuda" else torch.bfloat16)
        with torch.inference_mode(), autocast:
            return self.run_network(self.net, img, m, s, params, check).float()

    def _run_with_fallback(self, image, hole, sketch, params, report, check) -> torch.Tensor:
        device = self.torch_device
        half = bool(params.get("half_precision", False))
        try:
            return self._forward(device, half, image, hole, sketch, params, check)
        except Exception as error:  # noqa: BLE001 - only OOM is handled, the rest re-raised
            if device.type != "cuda" or not is_out_of_memory(error):
                raise
        torch.cuda.empty_cache()
        if not half:
            try:
                return self._forward(device, True, image, hole, sketch, params, check)
            except Exception as error:  # noqa: BLE001
                if not is_out_of_memory(error):
                    raise
            torch.cuda.empty_cache()
        report(0.2, OOM_MESSAGE)
        cpu = torch.device("cpu")
        self.net.to(cpu)
        torch.cuda.empty_cache()
        try:
            return self._forward(cpu, False, image, hole, sketch, params, check)
        finally:
            self.net.to(device)  # later (smaller) fills use the GPU again
