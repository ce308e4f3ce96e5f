"""Device choice for torch engines: auto picks CUDA, then Apple MPS, then CPU."""
from __future__ import annotations

from inpaint_studio.core.choices import DEVICES as DEVICE_CHOICES


def pick_device(name: str = "auto"):
    """Return a torch.device for 'auto' | 'cpu' | 'cuda' | 'mps' (NotReady if unavailable)."""
    import torch

    from inpaint_studio.core.errors import BadInput, NotReady

    if name not in DEVICE_CHOICES:
        raise BadInput(f"unknown device '{name}' (choose from {', '.join(DEVICE_CHOICES)})")
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise NotReady("CUDA was requested but no CUDA GPU is available (use --device cpu)")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise NotReady("Apple MPS was requested but is not available (use --device cpu)")
    return torch.device(name)


def is_out_of_memory(error: BaseException) -> bool:
    """True for CUDA/MPS out-of-memory errors."""
    import torch

    if isinstance(error, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(error, RuntimeError) and "out of memory" in str(error).lower()
