"""The editor's blend settings: feather band and colour matching."""
from inpaint_studio.core.settings import MAX_FEATHER, EngineSettings, Settings


def test_feather_round_trips_and_is_clamped():
    s = Settings.from_json(Settings(engine=EngineSettings(feather=12)).to_json())
    assert s.engine.feather == 12
    assert EngineSettings.from_dict({"feather": 10_000}).feather == MAX_FEATHER
    for bad in (-3, "wide", True, None, float("nan")):
        assert EngineSettings.from_dict({"feather": bad}).feather == (0 if bad == -3 else EngineSettings().feather)
