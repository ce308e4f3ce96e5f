import importlib.util
from pathlib import Path

import pytest
import torch

from inpaint_studio.core.errors import UserError
from inpaint_studio.training.train import (
    build_generator,
    interpolate_weights,
    load_checkpoint,
    save_checkpoint,
    weights_payload,
)

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "interpolate_weights.py"


def generator_file(path, engine, sketch, step, seed):
    torch.manual_seed(seed)
    config = {"engine": engine, "sketch": sketch}
    save_checkpoint(path, weights_payload(build_generator(engine, sketch).state_dict(), config, step))
    return path


def test_interpolation_is_linear_between_the_two_generators(tmp_path):
    a = generator_file(tmp_path / "a.pth", "gated", True, 100, 0)
    b = generator_file(tmp_path / "b.pth", "gated", True, 300, 1)
    sa, sb = (load_checkpoint(p)["state_dict"] for p in (a, b))
    ends = [load_checkpoint(interpolate_weights(a, b, alpha, tmp_path / f"m{alpha}.pth")) for alpha in (0, 1)]
    for k in sa:
        assert torch.equal(ends[0]["state_dict"][k], sa[k]) and torch.equal(ends[1]["state_dict"][k], sb[k])
    mid = load_checkpoint(interpolate_weights(a, b, 0.25, tmp_path / "mid.pth"))
    assert mid["layout"] == "gated-sketch" and mid["engine"] == "gated" and mid["steps"] == 150
    key = "conv1.conv.weight"
    expected = 0.75 * sa[key].float() + 0.25 * sb[key].float()
    assert mid["state_dict"][key].dtype == torch.float16
    torch.testing.assert_close(mid["state_dict"][key].float(), expected, atol=1e-3, rtol=1e-3)
    assert not torch.equal(mid["state_dict"][key], sa[key])


@pytest.mark.slow
def test_training_checkpoint_is_accepted(photo_dir, tmp_path):
    from inpaint_studio.training.train import TrainConfig, train

    config = TrainConfig(engine="gated", sketch=True, data=str(photo_dir), out=str(tmp_path / "run"), size=64,
                         steps=1, batch=1, device="cpu", val_samples=1)
    train(config, log=lambda *a: None)
    other = generator_file(tmp_path / "b.pth", "gated", True, 9, 3)
    mixed = load_checkpoint(interpolate_weights(tmp_path / "run" / "last.pt", other, 0.5, tmp_path / "m.pth"))
    g = load_checkpoint(tmp_path / "run" / "last.pt")["G"]["conv1.conv.weight"]
    expected = 0.5 * g + 0.5 * load_checkpoint(other)["state_dict"]["conv1.conv.weight"].float()
    torch.testing.assert_close(mixed["state_dict"]["conv1.conv.weight"].float(), expected, atol=1e-3, rtol=1e-3)


def test_mismatched_networks_and_bad_alpha_are_refused(tmp_path):
    a = generator_file(tmp_path / "a.pth", "gated", True, 1, 0)
    plain = generator_file(tmp_path / "p.pth", "gated", False, 1, 0)
    with pytest.raises(UserError, match="cannot interpolate gated/gated-sketch weights with gated/deepfill2-pt"):
        interpolate_weights(a, plain, 0.5, tmp_path / "x.pth")
    with pytest.raises(UserError, match="alpha must be between 0 and 1"):
        interpolate_weights(a, a, 1.5, tmp_path / "x.pth")
    save_checkpoint(tmp_path / "junk.pt", {"something": torch.zeros(1)})
    with pytest.raises(UserError, match="neither a training checkpoint nor"):
        interpolate_weights(a, tmp_path / "junk.pt", 0.5, tmp_path / "x.pth")
    assert not (tmp_path / "x.pth").exists()
    with pytest.raises(UserError, match="cannot write .*missing"):
        interpolate_weights(a, a, 0.5, tmp_path / "missing" / "x.pth")


def test_script_writes_the_blend(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("interpolate_weights", SCRIPT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    a = generator_file(tmp_path / "a.pth", "pennet", False, 10, 0)
    b = generator_file(tmp_path / "b.pth", "pennet", False, 20, 1)
    out = script.main([str(a), str(b), "--alpha", "0.5", "--out", str(tmp_path / "m.pth")])
    assert load_checkpoint(out)["steps"] == 15 and "wrote" in capsys.readouterr().out
