"""Inpaint Studio: a desktop image-inpainting editor for photographers."""

__version__ = "0.1.0"
