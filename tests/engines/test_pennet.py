"""PEN-Net: official key layout, checkpoint import, fast == reference attention, fills."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from inpaint_studio.core.errors import UserError
from inpaint_studio.engines import registry
from inpaint_studio.engines.pennet import PenNetEngine
from inpaint_studio.engines.pennet.network import PenNetGenerator, network_input

KEYS = Path(__file__).parent / "data" / "pennet_netG_keys.json"  # copy of ../shared/reference


def official_state(seed=0):
    torch.manual_seed(seed)
    return PenNetGenerator().state_dict()


def test_state_dict_matches_the_official_generator_exactly():
    expected = json.loads(KEYS.read_text())
    state = PenNetGenerator().state_dict()
    assert list(state) == list(expected)
    assert {k: list(v.shape) for k, v in state.items()} == expected
    assert sum(v.numel() for v in state.values()) == 10_231_538


BOXES = [(40, 90, 30, 100), (0, 30, 70, 128), (60, 63, 60, 62)]  # middle, corner, tiny


def test_fast_attention_gives_the_reference_output_inside_the_hole():
    torch.manual_seed(1)
    net = PenNetGenerator().eval()
    image = torch.rand(len(BOXES), 3, 128, 128) * 2 - 1
    mask = torch.zeros(len(BOXES), 1, 128, 128)
    for i, (y0, y1, x0, x1) in enumerate(BOXES):
        mask[i, :, y0:y1, x0:x1] = 1
    x = network_input(image, mask)
    with torch.no_grad():
        fast = net(x, mask)
        fast_pyramid, fast_full = net(x, mask, pyramid=True)  # computes everything
        net.attention = "reference"
        pyramid, ref = net(x, mask, pyramid=True)
    assert fast.shape == ref.shape == image.shape
    assert [p.shape[-1] for p in pyramid] == [64, 32, 16, 8, 4]
    torch.testing.assert_close(fast_full, ref, atol=2e-5, rtol=1e-4)
    for a, b in zip(fast_pyramid, pyramid):
        torch.testing.assert_close(a, b, atol=2e-5, rtol=1e-4)
    assert not torch.allclose(fast, ref, atol=1e-3)  # eval mode skipped work outside the hole
    for i in range(len(BOXES)):
        inside = mask[i].expand_as(ref[i]) > 0
        assert ref[i][inside].std() > 1e-3  # the comparison is not between constants
        torch.testing.assert_close(fast[i][inside], ref[i][inside], atol=2e-5, rtol=1e-4)


def test_official_checkpoint_imports_and_fills(tmp_path, monkeypatch):
    from inpaint_studio.engines import weights

    monkeypatch.setenv("INPAINT_STUDIO_USER_WEIGHTS", str(tmp_path / "user"))
    checkpoint = tmp_path / "gen_00042.pth"
    state = {k: v.clone() for k, v in official_state().items()}
    torch.save({"netG": state}, checkpoint)
    weights.import_checkpoint(checkpoint, "pennet", name="pennet-places2", convert=registry.converter("pennet"))
    assert registry.readiness("pennet").ready
    engine = registry.create("pennet", "cpu")
    assert isinstance(engine, PenNetEngine)

    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (64, 128, 3), dtype=np.uint8)
    hole = np.zeros((64, 128), bool)
    hole[20:40, 50:90] = True
    messages = []
    out = engine.fill(image, hole, progress=lambda f, m: messages.append(m))
    assert engine.weights_name == "pennet-places2"
    assert out.shape == image.shape and out.dtype == np.uint8
    assert np.array_equal(out[~hole], image[~hole])
    assert not np.array_equal(out[hole], image[hole])
    loaded = engine.net.state_dict()
    assert all(torch.equal(loaded[k], state[k]) for k in state)
    assert messages[-1] == "Done"
    half = engine.fill(image, hole, params={"half_precision": True})  # bf16/fp16 where native
    assert np.array_equal(half[~hole], image[~hole]) and np.abs(half.astype(int) - out).max() <= 8
    engine.unload()
    assert engine.net is None


def test_convert_accepts_bare_and_module_prefixed_state_dicts():
    state = official_state()
    for checkpoint in (state, {"netG": {"module." + k: v for k, v in state.items()}}):
        converted, layout = PenNetEngine.convert_checkpoint(checkpoint)
        assert layout == "pennet-official" and list(converted) == list(state)


def test_convert_rejects_other_structures():
    state = official_state()
    missing = dict(state)
    del missing["decoder.2.bias"]
    with pytest.raises(UserError, match="1 missing: decoder.2.bias"):
        PenNetEngine.convert_checkpoint({"netG": missing})
    wrong = dict(state, **{"torgb1.0.weight": torch.zeros(3, 32, 1, 1)})
    with pytest.raises(UserError, match="wrong shape: torgb1.0.weight"):
        PenNetEngine.convert_checkpoint({"netG": wrong})
    with pytest.raises(UserError, match="not a state_dict"):
        PenNetEngine.convert_checkpoint({"netG": {"a": 1}})


def test_size_must_be_a_multiple_of_64():
    engine = PenNetEngine("cpu")
    engine.load_state(official_state())
    image = np.zeros((64, 96, 3), np.uint8)
    hole = np.zeros((64, 96), bool)
    hole[10:20, 10:20] = True
    with pytest.raises(UserError, match="multiple of 64"):
        engine.fill(image, hole)


def test_pipeline_fills_a_photo_of_any_size_only_inside_the_hole():
    from inpaint_studio.pipeline.run import run_fill

    engine = PenNetEngine("cpu")
    engine.load_state(official_state())
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (300, 451, 3), dtype=np.uint8)
    hole = np.zeros((300, 451), bool)
    hole[100:180, 200:330] = True
    result = run_fill(image, hole, engine)
    assert result.image.shape == image.shape and result.image.dtype == np.uint8
    assert np.array_equal(result.image[~hole], image[~hole])
    assert not np.array_equal(result.image[hole], image[hole])
