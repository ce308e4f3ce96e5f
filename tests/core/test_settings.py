"""Settings round-trip and tolerate bad stored data."""
import dataclasses
import json

import pytest

from inpaint_studio.core.settings import BrushSettings, EngineSettings, HiresSettings, OverlaySettings, Settings


def test_round_trip_through_json():
    s = Settings(brush=BrushSettings(77, 0.25),
                 engine=EngineSettings("telea", "cpu", {"radius": 9, "seed": 3}, colour_match=False),
                 hires=HiresSettings("on"),
                 overlay=OverlaySettings((1, 2, 3, 4), 0.8))
    text = s.to_json()
    json.loads(text)
    assert Settings.from_json(text) == s


def test_missing_and_unknown_keys():
    s = Settings.from_dict({"brush": {"size": 12, "future": 1}, "other": {}})
    assert s.brush == BrushSettings(size=12)
    assert s.engine == EngineSettings() and s.hires == HiresSettings() and s.overlay == OverlaySettings()


@pytest.mark.parametrize("text", ["", "not json", "[1, 2]", "null", None, "{\"brush\": 5}"])
def test_garbage_gives_defaults(text):
    assert Settings.from_json(text) == Settings()


def test_bad_values_fall_back_or_clamp():
    s = Settings.from_dict({
        "brush": {"size": "big", "hardness": 7},
        "engine": {"name": "", "device": "tpu", "params": {"a": [1], "b": 2}, "colour_match": "no"},
        "hires": {"mode": "sometimes", "threshold_mp": float("nan")},
        "overlay": {"color": [300, -5, 10], "opacity": True},
    })
    assert s.brush == BrushSettings(size=40, hardness=1.0)
    assert s.engine == EngineSettings("patchmatch", "auto", {"b": 2})
    assert s.engine.colour_match is EngineSettings().colour_match
    assert s.hires == HiresSettings("auto")
    assert s.overlay == OverlaySettings((255, 0, 10, 255), 0.5)


def test_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        BrushSettings().size = 3
    assert dataclasses.replace(BrushSettings(), size=3).size == 3


def test_an_older_save_with_the_unused_hires_threshold_loads_and_drops_it():
    old = json.dumps({"hires": {"mode": "on", "threshold_mp": 8.0}, "brush": {"size": 9}})
    s = Settings.from_json(old)
    assert s.hires == HiresSettings("on") and s.brush.size == 9
    assert json.loads(s.to_json())["hires"] == {"mode": "on"}
