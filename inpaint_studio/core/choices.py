"""Value lists that saved settings, the pipeline, the engines, the CLI and the editor share.

Defined once, here, in the lowest layer all of them may import: ``pipeline.run.HIRES_MODES``
and ``engines.device.DEVICE_CHOICES`` are these same tuples.
"""
from __future__ import annotations

HIRES_MODES = ("off", "on", "auto")
"""Coarse-to-fine fill: never, always, or when a hole's context crop is large
(``pipeline.run.HIRES_AUTO_PIXELS``)."""

DEVICES = ("auto", "cpu", "cuda", "mps")
"""Where torch engines run: auto picks CUDA, then Apple MPS, then the CPU."""
