"""Inpaint Studio: a desktop image-inpainting editor for photographers."""
import os

__version__ = "0.1.0"

# torch's OpenMP workers spin while they wait; on a 2-4 core machine that is also running
# the GUI (or anything else) they then fight for cores and small fills run 5-30x slower.
# Passive waiting costs ~20 % on an idle machine and keeps fills steady. Set before torch
# is imported (engines import it lazily); an explicit user setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
