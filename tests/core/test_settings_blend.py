"""The editor's blend settings: feather band and colour matching."""
from inpaint_studio.core.settings import BLEND_VERSION, MAX_FEATHER, EngineSettings, Settings


def test_feather_round_trips_and_is_clamped():
    s = Settings.from_json(Settings(engine=EngineSettings(feather=12)).to_json())
    assert s.engine.feather == 12
    assert EngineSettings.from_dict({"feather": 10_000}).feather == MAX_FEATHER
    for bad in (-3, "wide", True, None, float("nan")):
        assert EngineSettings.from_dict({"feather": bad}).feather == (0 if bad == -3 else EngineSettings().feather)


def test_colour_match_of_an_older_save_is_the_old_default_not_a_choice():
    old = {"name": "patchmatch", "colour_match": True}  # saved before blend_version existed
    assert EngineSettings.from_dict(old).colour_match is EngineSettings().colour_match is False
    chosen = Settings.from_json(Settings(engine=EngineSettings(colour_match=True)).to_json())
    assert chosen.engine.colour_match is True  # chosen since: kept
    assert EngineSettings.from_dict({**old, "blend_version": BLEND_VERSION}).colour_match is True
