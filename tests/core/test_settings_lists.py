"""Mode and device lists are defined once; core's copies (it may not import the sources)
match them and saved settings keep every value."""
from __future__ import annotations

import dataclasses

import pytest

from inpaint_studio.core import settings
from inpaint_studio.engines.device import DEVICE_CHOICES
from inpaint_studio.pipeline.run import HIRES_MODES


def test_core_copies_match_the_sources():
    assert settings.HIRES_MODES == HIRES_MODES
    assert settings.DEVICES == DEVICE_CHOICES


@pytest.mark.parametrize("mode", HIRES_MODES)
@pytest.mark.parametrize("device", DEVICE_CHOICES)
def test_saved_settings_keep_every_mode_and_device(mode, device):
    s = settings.Settings()
    s = dataclasses.replace(s, engine=dataclasses.replace(s.engine, device=device),
                            hires=dataclasses.replace(s.hires, mode=mode))
    loaded = settings.Settings.from_json(s.to_json())
    assert (loaded.engine.device, loaded.hires.mode) == (device, mode)
