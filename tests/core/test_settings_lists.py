"""Mode and device lists are defined once (core.choices): the pipeline, the engines and the
settings use those same tuples, and saved settings keep every value."""
from __future__ import annotations

import dataclasses

import pytest

from inpaint_studio.core import choices, settings
from inpaint_studio.engines.device import DEVICE_CHOICES
from inpaint_studio.pipeline.run import HIRES_MODES


def test_one_definition_each():
    assert HIRES_MODES is choices.HIRES_MODES and settings.HIRES_MODES is choices.HIRES_MODES
    assert DEVICE_CHOICES is choices.DEVICES and settings.DEVICES is choices.DEVICES
    assert "mps" in DEVICE_CHOICES and set(HIRES_MODES) == {"off", "on", "auto"}


@pytest.mark.parametrize("mode", HIRES_MODES)
@pytest.mark.parametrize("device", DEVICE_CHOICES)
def test_saved_settings_keep_every_mode_and_device(mode, device):
    s = settings.Settings()
    s = dataclasses.replace(s, engine=dataclasses.replace(s.engine, device=device),
                            hires=dataclasses.replace(s.hires, mode=mode))
    loaded = settings.Settings.from_json(s.to_json())
    assert (loaded.engine.device, loaded.hires.mode) == (device, mode)
