"""PEN-Net engine: the network (network.py) and the engine class (engine.py)."""
from inpaint_studio.engines.pennet.engine import PenNetEngine

__all__ = ["PenNetEngine"]
