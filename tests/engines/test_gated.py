"""Gated convolution (DeepFill v2): public layouts, conversion, fast == reference attention, fills."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from inpaint_studio.core.errors import UserError
from inpaint_studio.engines import registry, weights
from inpaint_studio.engines.gated.attention import contextual_attention
from inpaint_studio.engines.gated.engine import GatedEngine
from inpaint_studio.engines.gated.network import DeepFillV2, build, pt_key_to_ours

DATA = Path(__file__).parent / "data"  # copies of ../shared/reference
TF_KEYS = json.loads((DATA / "deepfill2_tf_G_keys.json").read_text())
PT_KEYS = json.loads((DATA / "deepfill2_pt_G_keys.json").read_text())


def lively(net, seed=0):
    """Re-initialise so signals neither vanish nor saturate (the default init gives a net
    whose output hardly depends on its attention branch, which would make tests blind)."""
    torch.manual_seed(seed)
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, torch.nn.Conv2d):
                module.weight.normal_(0, 2.0 / module.weight[0].numel() ** 0.5)
                module.bias.zero_()
    return net


def tf_state(seed=0):
    return lively(build("deepfill2-tf"), seed).state_dict()


def pt_state(seed=0):
    """A states_pt_* generator state: PyTorch key names plus the constant fuse buffer."""
    ours = tf_state(seed)
    to_pt = {pt_key_to_ours(k): k for k in PT_KEYS if pt_key_to_ours(k)}
    state = {}
    for key in PT_KEYS:
        state[key] = ours[pt_key_to_ours(key)] if key in to_pt.values() else torch.eye(3).view(1, 1, 3, 3)
    return state


def test_state_dict_matches_the_tf_converted_generator_exactly():
    state = DeepFillV2().state_dict()
    assert {k: list(v.shape) for k, v in state.items()} == TF_KEYS
    assert list(state) == list(TF_KEYS)
    assert len(state) == 84
    assert sum(v.numel() for v in state.values()) == 4_052_478


def test_pytorch_layout_maps_one_to_one_onto_ours():
    mapped = {pt_key_to_ours(k): shape for k, shape in PT_KEYS.items()}
    assert mapped.pop(None) == [1, 1, 3, 3]  # stage2.contextual_attention.fuse_weight, a constant
    assert len(PT_KEYS) == 85
    assert mapped == TF_KEYS


def test_sketch_variant_differs_only_in_the_first_conv():
    sketch, plain = build("gated-sketch").state_dict(), DeepFillV2().state_dict()
    assert list(sketch) == list(plain)
    assert sketch["conv1.conv.weight"].shape == (48, 6, 5, 5)
    assert all(sketch[k].shape == plain[k].shape for k in plain if k != "conv1.conv.weight")


@pytest.mark.parametrize("fuse", [True, False])
@pytest.mark.parametrize("norm", ["max", "escape"])
def test_fast_attention_with_all_queries_equals_the_all_pairs_computation(fuse, norm):
    torch.manual_seed(0)
    x = torch.relu(torch.randn(1, 16, 24, 20))
    hole = torch.zeros(1, 1, 96, 80)
    hole[..., 30:70, 10:50] = 1
    ref = contextual_attention(x, hole, fuse=fuse, norm=norm, reference=True)
    everything = torch.ones(1, 12 * 10, dtype=torch.bool)
    fast = contextual_attention(x, hole, fuse=fuse, norm=norm, queries=everything)
    assert ref.abs().max() > 0.1
    torch.testing.assert_close(fast, ref, atol=1e-5, rtol=1e-4)


BOXES = [(20, 44, 30, 70), (0, 16, 72, 96), (30, 33, 40, 42)]  # middle, corner, tiny (rows, cols)


@pytest.mark.parametrize("layout", ["deepfill2-tf", "deepfill2-pt"])
def test_fast_network_gives_the_reference_output_inside_the_hole(layout):
    net = lively(build(layout), 1).eval()
    image = torch.rand(len(BOXES), 3, 64, 96) * 2 - 1
    mask = torch.zeros(len(BOXES), 1, 64, 96)
    for i, (y0, y1, x0, x1) in enumerate(BOXES):
        mask[i, :, y0:y1, x0:x1] = 1
    with torch.no_grad():
        _, fast = net(image, mask)
        assert fast.shape == image.shape
        net.attention = "reference"
        _, ref = net(image, mask)
        net.pmconv9.conv.weight.zero_()  # attention branch cut off: the hole must change
        _, cut = net(image, mask)
    for i in range(len(BOXES)):
        inside = mask[i].expand_as(ref[i]) > 0
        assert ref[i][inside].std() > 1e-3
        assert (cut[i][inside] - ref[i][inside]).abs().max() > 1e-2
        torch.testing.assert_close(fast[i][inside], ref[i][inside], atol=2e-5, rtol=1e-4)


def test_training_mode_computes_everything_like_the_reference():
    net = lively(build("deepfill2-pt"), 2)
    image = torch.rand(1, 3, 64, 64) * 2 - 1
    mask = torch.zeros(1, 1, 64, 64)
    mask[..., 16:40, 24:48] = 1
    with torch.no_grad():
        coarse, fine = net.train()(image, mask)
        net.attention = "reference"
        ref_coarse, ref_fine = net(image, mask)
        net.attention = "fast"
        _, eval_fine = net.eval()(image, mask)
    torch.testing.assert_close(coarse, ref_coarse)
    torch.testing.assert_close(fine, ref_fine, atol=2e-5, rtol=1e-4)
    assert eval_fine[mask.expand_as(fine) == 0].abs().max() == 0  # eval: only the hole box is computed


def test_sides_must_be_multiples_of_8():
    with pytest.raises(ValueError, match="multiples of 8"):
        DeepFillV2()(torch.zeros(1, 3, 64, 60), torch.zeros(1, 1, 64, 60))


def test_convert_detects_both_public_layouts():
    tf = tf_state()
    converted, layout = GatedEngine.convert_checkpoint({"G": tf, "D": {}})
    assert layout == "deepfill2-tf" and list(converted) == list(TF_KEYS)
    converted, layout = GatedEngine.convert_checkpoint({"G": pt_state()})
    assert layout == "deepfill2-pt" and list(converted) == list(TF_KEYS)
    assert all(torch.equal(converted[k], tf[k]) for k in tf)


def test_convert_rejects_other_structures():
    state = tf_state()
    with pytest.raises(UserError, match="not a DeepFill v2 generator .*84 missing: conv1.conv.weight"):
        GatedEngine.convert_checkpoint({"G": {"dw_conv01.0.weight": torch.zeros(32, 4, 3, 3)}})
    wrong = dict(state, **{"conv17.conv.weight": torch.zeros(3, 12, 5, 5)})
    with pytest.raises(UserError, match="wrong shape: conv17.conv.weight"):
        GatedEngine.convert_checkpoint({"G": wrong})
    with pytest.raises(UserError, match="PEN-Net checkpoint"):
        GatedEngine.convert_checkpoint({"netG": state})
    with pytest.raises(UserError, match="expected a dict with 'G'"):
        GatedEngine.convert_checkpoint([1, 2])


def picture(seed=0, size=(64, 96)):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, size + (3,), dtype=np.uint8)
    hole = np.zeros(size, bool)
    hole[20:44, 30:70] = True
    return image, hole


@pytest.fixture
def user_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("INPAINT_STUDIO_USER_WEIGHTS", str(tmp_path / "user"))
    return tmp_path


@pytest.mark.parametrize("fmt", ["tf", "pt"])
def test_public_checkpoint_imports_and_fills(user_dir, fmt):
    state = tf_state(3) if fmt == "tf" else pt_state(3)
    path = user_dir / f"states_{fmt}_places2.pth"
    torch.save({"G": state, "D": {}, "n_iter": 1}, path)
    assert not registry.readiness("gated").ready
    name = weights.import_checkpoint(path, "gated", convert=registry.converter("gated"))
    assert name == f"deepfill2-places2-{fmt}"
    assert registry.readiness("gated").ready
    engine = registry.create("gated", "cpu")
    image, hole = picture()
    out = engine.fill(image, hole)
    assert engine.weights_name == name and engine.layout == f"deepfill2-{fmt}"
    assert engine.net.conv2_downsample.tf_pad == (fmt == "tf")
    assert out.shape == image.shape and out.dtype == np.uint8
    assert np.array_equal(out[~hole], image[~hole])
    assert not np.array_equal(out[hole], image[hole])
    engine.unload()
    assert engine.net is None


def test_sketch_weights_take_precedence_and_use_the_sketch(user_dir):
    net = lively(build("gated-sketch"), 4)
    path = user_dir / "ours.pth"
    weights.save_checkpoint(path, net.state_dict(), engine="gated", layout="gated-sketch")
    torch.save({"G": tf_state()}, user_dir / "states_tf_places2.pth")
    weights.import_checkpoint(user_dir / "states_tf_places2.pth", "gated", convert=registry.converter("gated"))
    assert weights.import_checkpoint(path, "gated", convert=registry.converter("gated")) == "gated-sketch-ours"
    engine = registry.create("gated", "cpu")
    image, hole = picture()
    sketch = np.zeros_like(hole)
    sketch[30:33, 25:75] = True
    plain = engine.fill(image, hole)
    guided = engine.fill(image, hole, sketch)
    assert engine.weights_name == "gated-sketch-ours" and engine.net.in_channels == 6
    assert not np.array_equal(plain[hole], guided[hole])
    assert np.array_equal(guided[~hole], image[~hole])


def test_pen_lines_reach_the_network_thinned_to_one_pixel(user_dir):
    from inpaint_studio.core import raster

    net = lively(build("gated-sketch"), 5)
    path = user_dir / "ours.pth"
    weights.save_checkpoint(path, net.state_dict(), engine="gated", layout="gated-sketch")
    weights.import_checkpoint(path, "gated", convert=registry.converter("gated"))
    engine = registry.create("gated", "cpu")
    image, hole = picture()
    thick = np.zeros_like(hole)
    thick[28:34, 25:75] = True  # what a 6 px pen leaves
    thin = raster.thin_lines(thick)
    assert thin.sum() < thick.sum() / 4
    seen = []
    run = engine.run_network
    engine.run_network = lambda net, img, m, sk, params, check: seen.append(sk) or run(net, img, m, sk, params, check)
    out_thick = engine.fill(image, hole, thick)
    out_thin = engine.fill(image, hole, thin)
    assert np.array_equal(out_thick, out_thin)
    assert np.array_equal(seen[0][0, 0].numpy().astype(bool), thin)
    assert not np.array_equal(out_thick[hole], engine.fill(image, hole)[hole])  # the line still counts


def test_training_backpropagates_through_both_stages():
    net = lively(build("gated-sketch"), 5).train()
    image = torch.rand(2, 3, 32, 32) * 2 - 1
    mask = torch.zeros(2, 1, 32, 32)
    mask[..., 8:20, 10:26] = 1
    coarse, fine = net(image, mask, torch.zeros_like(mask))
    (coarse.abs().mean() + fine.abs().mean()).backward()
    for layer in (net.conv1, net.pmconv9, net.allconv17):
        assert layer.conv.weight.grad.abs().sum() > 0
