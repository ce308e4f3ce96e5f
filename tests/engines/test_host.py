"""EngineHost and FillRequest: one engine per (name, device), checked requests, the refiner."""
from __future__ import annotations

import numpy as np
import pytest

import fake_engines
from inpaint_studio.core.errors import BadInput
from inpaint_studio.core.settings import MAX_FEATHER
from inpaint_studio.engines import registry
from inpaint_studio.engines.host import EngineHost
from inpaint_studio.pipeline.request import FillRequest, parse_feather


@pytest.fixture
def host(monkeypatch):
    fake_engines.register(monkeypatch)
    created = []
    real = registry.create

    def counting_create(name, device="auto"):
        created.append((name, device))
        return real(name, device)

    monkeypatch.setattr(registry, "create", counting_create)
    h = EngineHost()
    h.created = created
    yield h
    h.unload()


def inputs(size=24):
    image = np.full((size, size, 3), 40, np.uint8)
    hole = np.zeros((size, size), bool)
    hole[8:14, 8:14] = True
    return image, hole


def test_one_engine_per_name_and_device(host):
    first = host.engine("flat", "cpu")
    assert host.engine("flat", "cpu") is first and host.loaded == ("flat", "cpu")
    assert fake_engines.FlatEngine.loads == 1 and fake_engines.FlatEngine.unloads == 0
    other = host.engine("flat", "auto")  # another device: a new engine, the old one released
    assert other is not first and fake_engines.FlatEngine.unloads == 1
    image, hole = inputs()
    for value in (7, 9):
        out = host.fill(FillRequest("flat", image, hole, device="auto", params={"value": value})).image
        assert (out[hole] == value).all() and np.array_equal(out[~hole], image[~hole])
    assert host.created == [("flat", "cpu"), ("flat", "auto")]  # the fills reused the engine
    host.engine("slow", "auto")
    assert host.loaded == ("slow", "auto") and fake_engines.FlatEngine.unloads == 2
    host.unload()
    assert host.loaded is None


def test_refiner_is_made_once_for_coarse_to_fine_and_not_at_all_without(host):
    image, hole = inputs()
    host.fill(FillRequest("flat", image, hole, hires="off"))
    assert host.created == [("flat", "auto")]  # no refiner made for hires off
    engine = host.engine("flat", "auto")
    refiner = host.refiner(engine, "auto")
    assert refiner.info.name == "patchmatch" and refiner.can_refine
    host.fill(FillRequest("flat", image, hole, hires="on"))
    assert host.refiner(engine, "auto") is refiner
    assert host.created == [("flat", "auto"), ("patchmatch", "auto")]
    host.engine("flat", "cpu")  # a new engine gets its own refiner
    assert host.refiner(host.engine("flat", "cpu"), "cpu") is not refiner


@pytest.mark.parametrize("feather", ["wide", "-1", -1, MAX_FEATHER + 1, "2.5", "", True, None, "\u00b2"])
def test_a_bad_feather_is_bad_input_before_any_engine_loads(host, feather):
    image, hole = inputs()
    with pytest.raises(BadInput, match=rf"^feather must be a number of pixels from 0 to {MAX_FEATHER} "
                                        rf"or auto, got '{feather}'$") as caught:
        host.fill(FillRequest("flat", image, hole, feather=feather))
    assert caught.value.exit_code == 2
    assert host.created == [] and fake_engines.FlatEngine.loads == 0


def test_feather_values_that_are_accepted():
    assert [parse_feather(v) for v in (0, "0", "12", np.int64(5), MAX_FEATHER, "auto")] == [
        0, 0, 12, 5, MAX_FEATHER, "auto"]
    image, hole = inputs()
    assert FillRequest("flat", image, hole, feather="3").feather == 3
    with pytest.raises(BadInput, match="^--feather must"):
        parse_feather("x", "--feather")


@pytest.mark.parametrize("change, message", [
    ({"hires": "maybe"}, "hires must be one of off, on, auto, got 'maybe'"),
    ({"device": "tpu"}, "unknown device 'tpu'"),
    ({"params": {"colour": 3}}, "engine 'flat' has no parameter(s): colour"),
])
def test_other_bad_requests_are_bad_input_before_any_engine_loads(host, change, message):
    image, hole = inputs()
    with pytest.raises(BadInput) as caught:
        host.fill(FillRequest("flat", image, hole, **change))
    assert message in str(caught.value)
    assert host.created == []


def test_a_request_holds_read_only_arrays_and_params():
    image, hole = inputs()
    request = FillRequest("flat", image, hole, params={"value": 3})
    assert not request.image.flags.writeable and not request.hole.flags.writeable
    with pytest.raises(TypeError):
        request.params["value"] = 4  # type: ignore[index]
    snap = FillRequest.snapshot("flat", image, hole, params={"value": 3})
    image[hole] = 200  # the caller edits its photo after the snapshot
    assert (snap.image[hole] == 40).all() and (request.image[hole] == 200).all()  # a view vs a copy


def test_converter_is_the_engines_declared_convert_checkpoint(monkeypatch):
    import dataclasses

    from inpaint_studio.core.errors import UserError
    from inpaint_studio.engines.gated.engine import GatedEngine

    assert registry.converter("gated") == GatedEngine.convert_checkpoint
    with pytest.raises(UserError, match="engine 'telea' uses no weight files"):
        registry.converter("telea")
    fake_engines.register(monkeypatch)  # a class with weight files but no converter
    flat = dataclasses.replace(registry.ENGINES["flat"], weights=("flat-weights",))
    monkeypatch.setitem(registry.ENGINES, "flat", flat)
    with pytest.raises(UserError, match="engine 'flat' cannot import checkpoints yet"):
        registry.converter("flat")
