"""User settings as frozen dataclasses, persisted as JSON-friendly dicts.

- ``BrushSettings(size=40, hardness=1.0)``: size is the diameter in image pixels;
- ``EngineSettings(name="patchmatch", device="auto", params={}, colour_match=False,
  feather=0)``: params per engine are plain JSON values; ``colour_match`` and ``feather``
  (blend band in pixels, 0-500) are the editor's blend defaults;
- ``HiresSettings(mode="auto")``: mode "auto" | "on" | "off" (``core.choices.HIRES_MODES``;
  the size at which "auto" goes coarse-to-fine is the pipeline's, not a setting);
- ``OverlaySettings(color=(255, 40, 80, 255), opacity=0.5)``: mask overlay RGBA;
- ``Settings(brush, engine, hires, overlay)``.

Each has ``to_dict()`` and ``from_dict(d)``; ``Settings`` also has ``to_json()`` /
``from_json(text)``. Reading never fails: unknown keys are ignored, missing or
bad values fall back to the default, numbers are clamped to their range.
Change a value with ``dataclasses.replace(s, size=60)``.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Mapping

from inpaint_studio.core.choices import DEVICES, HIRES_MODES

MAX_FEATHER = 500  # pixels, as the CLI's --feather
# Saves before version 2 hold colour_match=True as the old default, not as a choice (it
# costs PatchMatch 0.2-1.3 dB): they are read with today's blend defaults.
BLEND_VERSION = 2


def _num(value: Any, default: float, lo: float, hi: float, kind: Callable[[float], Any] = float) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return default
    return kind(min(max(value, lo), hi))


def _choice(value: Any, default: str, choices: tuple[str, ...]) -> str:
    return value if isinstance(value, str) and value in choices else default


def _dict(d: Any) -> Mapping[str, Any]:
    return d if isinstance(d, Mapping) else {}


@dataclass(frozen=True)
class BrushSettings:
    size: int = 40
    hardness: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {"size": self.size, "hardness": self.hardness}

    @classmethod
    def from_dict(cls, d: Any) -> "BrushSettings":
        d, x = _dict(d), cls()
        return cls(size=_num(d.get("size"), x.size, 1, 5000, int),
                   hardness=_num(d.get("hardness"), x.hardness, 0.0, 1.0))


@dataclass(frozen=True)
class EngineSettings:
    name: str = "patchmatch"
    device: str = "auto"
    params: dict[str, Any] = field(default_factory=dict)
    colour_match: bool = False  # bench_quality: costs PatchMatch 0.2-1.3 dB per kind of hole
    feather: int = 0  # nothing outside the mask changes unless asked

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "device": self.device, "params": dict(self.params),
                "colour_match": self.colour_match, "feather": self.feather,
                "blend_version": BLEND_VERSION}

    @classmethod
    def from_dict(cls, d: Any) -> "EngineSettings":
        d, x = _dict(d), cls()
        name = d.get("name")
        params = d.get("params")
        params = {str(k): v for k, v in params.items()
                  if isinstance(v, (int, float, str, bool))} if isinstance(params, Mapping) else {}
        current = d.get("blend_version") == BLEND_VERSION
        return cls(name=name if isinstance(name, str) and name else x.name,
                   device=_choice(d.get("device"), x.device, DEVICES),
                   params=params,
                   colour_match=d["colour_match"] if current and isinstance(d.get("colour_match"), bool)
                   else x.colour_match,
                   feather=_num(d.get("feather"), x.feather, 0, MAX_FEATHER, int))


@dataclass(frozen=True)
class HiresSettings:
    mode: str = "auto"

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode}

    @classmethod
    def from_dict(cls, d: Any) -> "HiresSettings":
        d, x = _dict(d), cls()  # "threshold_mp" of older saves was never used: ignored
        return cls(mode=_choice(d.get("mode"), x.mode, HIRES_MODES))


@dataclass(frozen=True)
class OverlaySettings:
    color: tuple[int, int, int, int] = (255, 40, 80, 255)
    opacity: float = 0.5

    def to_dict(self) -> dict[str, Any]:
        return {"color": list(self.color), "opacity": self.opacity}

    @classmethod
    def from_dict(cls, d: Any) -> "OverlaySettings":
        d, x = _dict(d), cls()
        color = d.get("color")
        if isinstance(color, (list, tuple)) and len(color) in (3, 4) and all(
                isinstance(c, int) and not isinstance(c, bool) for c in color):
            color = tuple(min(max(c, 0), 255) for c in color) + ((255,) if len(color) == 3 else ())
        else:
            color = x.color
        return cls(color=color, opacity=_num(d.get("opacity"), x.opacity, 0.0, 1.0))


@dataclass(frozen=True)
class Settings:
    brush: BrushSettings = field(default_factory=BrushSettings)
    engine: EngineSettings = field(default_factory=EngineSettings)
    hires: HiresSettings = field(default_factory=HiresSettings)
    overlay: OverlaySettings = field(default_factory=OverlaySettings)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name).to_dict() for f in fields(self)}

    @classmethod
    def from_dict(cls, d: Any) -> "Settings":
        d = _dict(d)
        parts: dict[str, Any] = {f.name: f.default_factory for f in fields(cls)}  # the section classes
        return cls(**{name: kind.from_dict(d.get(name)) for name, kind in parts.items()})

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: Any) -> "Settings":
        try:
            return cls.from_dict(json.loads(text))
        except (TypeError, ValueError):
            return cls()
