import json

import numpy as np
import pytest
import torch

from inpaint_studio.core.errors import UserError
from inpaint_studio.training.train import TrainConfig, export_weights, load_checkpoint, train

pytestmark = pytest.mark.slow  # real training steps: a second or more each


def test_gated_sketch_training_runs_saves_resumes_and_exports(photo_dir, tmp_path):
    out = tmp_path / "run"
    config = TrainConfig(engine="gated", sketch=True, data=str(photo_dir), out=str(out), size=64,
                         steps=2, batch=1, device="cpu", preview_every=2, val_every=2, save_every=2,
                         val_samples=2)
    result = train(config, log=lambda *a: None)
    assert result["steps"] == 2
    assert (out / "preview_0000002.png").exists()
    figures = [json.loads(line) for line in (out / "val.jsonl").read_text().splitlines()]
    assert figures[-1]["step"] == 2 and figures[-1]["hole_psnr"] > 0
    assert figures[-1]["telea_l1"] > 0 and figures[-1]["telea_psnr"] > 0  # the bar to beat
    state = load_checkpoint(out / "last.pt")
    assert state["step"] == 2
    before = {k: v.clone() for k, v in state["G"].items()}

    config.steps = 3
    config.resume = str(out / "last.pt")
    config.lr = 3e-5
    assert train(config, log=lambda *a: None)["steps"] == 3
    state = load_checkpoint(out / "last.pt")
    assert state["opt_g"]["param_groups"][0]["lr"] == 3e-5  # --lr holds on resume
    after = state["G"]
    assert any(not torch.equal(before[k], after[k]) for k in before)  # it kept learning

    exported = export_weights(out / "last.pt", tmp_path / "gated.pth")
    payload = torch.load(exported, weights_only=True)
    assert payload["layout"] == "gated-sketch" and payload["steps"] == 3
    assert all(v.dtype == torch.float16 for v in payload["state_dict"].values() if v.is_floating_point())


def test_missing_data_folder_is_a_clear_error(tmp_path):
    with pytest.raises(UserError, match="not found"):
        train(TrainConfig(engine="gated", data=str(tmp_path / "nope"), out=str(tmp_path / "o"), device="cpu"))


def test_split_follows_gather_manifest(tmp_path):
    from inpaint_studio.training.train import load_split

    images = [{"file": f"p{i}.jpg", "split": "val" if i in (2, 5) else "train"} for i in range(8)]
    (tmp_path / "manifest.json").write_text(json.dumps({"images": images}))
    train_paths, val_paths = load_split(tmp_path)
    assert [p.name for p in val_paths] == ["p2.jpg", "p5.jpg"]
    assert len(train_paths) == 6


def test_pennet_training_step_learns_and_validates(photo_dir, tmp_path):
    out = tmp_path / "pennet"
    config = TrainConfig(engine="pennet", data=str(photo_dir), out=str(out), size=64, steps=1,
                         batch=1, device="cpu", val_samples=1, preview_every=1, val_every=1,
                         save_every=1)
    assert train(config, log=lambda *a: None)["steps"] == 1
    state = load_checkpoint(out / "last.pt")
    assert state["config"]["engine"] == "pennet"
    assert (out / "val.jsonl").exists() and (out / "preview_0000001.png").exists()
    with pytest.raises(UserError, match="sketch"):
        train(TrainConfig(engine="pennet", sketch=True, data=str(photo_dir), out=str(out), device="cpu"))


def test_adversarial_loss_starts_at_adv_from(photo_dir, tmp_path):
    out = tmp_path / "run"
    config = TrainConfig(engine="pennet", data=str(photo_dir), out=str(out), size=64, steps=2, batch=1,
                         device="cpu", preview_every=2, val_every=2, save_every=2, val_samples=1,
                         adv_from=2)
    train(config, log=lambda *a: None)
    state = load_checkpoint(out / "last.pt")
    assert state["opt_d"]["state"] == {}  # the discriminator never stepped before adv_from
    d_before = {k: v.clone() for k, v in state["D"].items()}
    config.steps, config.resume = 3, str(out / "last.pt")
    train(config, log=lambda *a: None)
    d_after = load_checkpoint(out / "last.pt")["D"]
    assert any(not torch.equal(d_before[k], d_after[k]) for k in d_before)


@pytest.mark.parametrize("engine", ["pennet", "gated"])
def test_adv_weight_scales_only_the_adversarial_term(engine):
    from inpaint_studio.training.train import build_discriminator, build_generator, generator_losses

    torch.manual_seed(0)
    G, D = build_generator(engine, False), build_discriminator(engine, False)
    D.eval()  # spectral norm's power iteration would change D between the two calls
    image = torch.rand(1, 3, 64, 64) * 2 - 1
    hole = torch.zeros(1, 1, 64, 64)
    hole[..., 16:40, 20:44] = 1
    with torch.no_grad():
        full = generator_losses(engine, G, D, image, hole, None, True, 1.0)[1]
        part = generator_losses(engine, G, D, image, hole, None, True, 0.25)[1]
    assert abs(float(full["adv"])) > 1e-4
    assert torch.allclose(part["adv"], 0.25 * full["adv"], rtol=1e-4, atol=1e-6)
    assert all(torch.equal(part[k], full[k]) for k in full if k != "adv")


def test_hole_weight_weights_hole_pixels_in_the_gated_l1():
    from inpaint_studio.training.train import build_discriminator, build_generator, generator_losses

    torch.manual_seed(0)
    G, D = build_generator("gated", False), build_discriminator("gated", False)
    image = torch.rand(1, 3, 64, 64) * 2 - 1
    hole = torch.zeros(1, 1, 64, 64)
    hole[..., 16:40, 20:44] = 1
    with torch.no_grad():
        coarse, refined = G(image, hole, None)
        plain = generator_losses("gated", G, D, image, hole, None, False)[1]
        heavy = generator_losses("gated", G, D, image, hole, None, False, hole_weight=6.0)[1]
    for name, out in (("coarse", coarse), ("refined", refined)):
        err = (out - image).abs()
        assert torch.allclose(plain[name], err.mean())  # the paper's whole-image L1
        expected = (err.mean(1, keepdim=True) * (1 + 5 * hole)).mean()
        assert torch.allclose(heavy[name], expected, rtol=1e-5)
        assert heavy[name] > 1.5 * plain[name]


@pytest.mark.parametrize("engine", ["pennet", "gated"])
def test_grad_weight_adds_an_edge_term_on_the_final_output(engine):
    from inpaint_studio.training.losses import gradient_l1
    from inpaint_studio.training.train import build_discriminator, build_generator, generator_losses

    torch.manual_seed(0)
    G, D = build_generator(engine, False), build_discriminator(engine, False)
    G.eval()
    image = torch.rand(1, 3, 64, 64) * 2 - 1
    hole = torch.zeros(1, 1, 64, 64)
    hole[..., 16:40, 20:44] = 1
    with torch.no_grad():
        plain = generator_losses(engine, G, D, image, hole, None, False)
        edged = generator_losses(engine, G, D, image, hole, None, False, grad_weight=2.0)
    assert "grad" not in plain[1]
    expected = 2.0 * gradient_l1(plain[2] * hole + image * (1 - hole), image, hole)  # comp = output in the hole
    assert torch.allclose(edged[1]["grad"], expected, rtol=1e-4)
    assert float(edged[1]["grad"]) > 0
    assert all(torch.equal(edged[1][k], plain[1][k]) for k in plain[1])


def test_bad_hole_weight_is_refused(photo_dir, tmp_path):
    for engine, option, message in (("gated", {"hole_weight": 0.0}, "more than 0"),
                                    ("pennet", {"hole_weight": 6.0}, "gated engine"),
                                    ("gated", {"grad_weight": -1.0}, "grad-weight")):
        config = TrainConfig(engine=engine, data=str(photo_dir), out=str(tmp_path / "run"), size=64,
                             steps=1, device="cpu", **option)
        with pytest.raises(UserError, match=message):
            train(config, log=lambda *a: None)
    assert not (tmp_path / "run").exists()


def test_negative_adv_weight_is_refused(photo_dir, tmp_path):
    config = TrainConfig(engine="gated", data=str(photo_dir), out=str(tmp_path / "run"), size=64,
                         steps=1, device="cpu", adv_weight=-1)
    with pytest.raises(UserError, match="adv-weight"):
        train(config, log=lambda *a: None)


def test_bad_hole_range_is_refused(photo_dir, tmp_path):
    config = TrainConfig(engine="gated", data=str(photo_dir), out=str(tmp_path / "run"), size=64,
                         steps=1, device="cpu", holes=(0.5, 0.2))
    with pytest.raises(UserError, match="holes"):
        train(config, log=lambda *a: None)


def test_exported_weights_resume_the_generator_for_fine_tuning(photo_dir, tmp_path):
    from inpaint_studio.training.train import build_discriminator, build_generator, resume_from

    config = TrainConfig(engine="pennet", data=str(photo_dir), out=str(tmp_path / "a"), size=64, steps=2,
                         batch=1, device="cpu", preview_every=2, val_every=2, save_every=2, val_samples=1)
    train(config, log=lambda *a: None)
    exported = export_weights(tmp_path / "a" / "last.pt", tmp_path / "pennet.pth")
    saved = load_checkpoint(tmp_path / "a" / "last.pt")["G"]
    G, D = build_generator("pennet", False), build_discriminator("pennet", False)
    opts = [torch.optim.Adam(m.parameters()) for m in (G, D)]
    assert resume_from(exported, config, G, D, *opts) == 2  # continues the step count
    for k, v in G.state_dict().items():
        if v.is_floating_point():
            torch.testing.assert_close(v, saved[k], atol=2e-3, rtol=2e-3)  # fp16 round trip
    # a fine-tuning run from the small file trains on from there
    config2 = TrainConfig(engine="pennet", data=str(photo_dir), out=str(tmp_path / "b"), size=64, steps=3,
                          batch=1, device="cpu", preview_every=3, val_every=3, save_every=3, val_samples=1,
                          resume=str(exported))
    assert train(config2, log=lambda *a: None)["steps"] == 3
    wrong = TrainConfig(engine="gated", sketch=True, data=str(photo_dir), out=str(tmp_path / "c"))
    G2, D2 = build_generator("gated", True), build_discriminator("gated", True)
    with pytest.raises(UserError, match="pennet weights"):
        resume_from(exported, wrong, G2, D2, *[torch.optim.Adam(m.parameters()) for m in (G2, D2)])


def test_worker_processes_feed_training_and_minutes_stop_it(photo_dir, tmp_path):
    out = tmp_path / "timed"
    config = TrainConfig(engine="pennet", data=str(photo_dir), out=str(out), size=64, steps=10_000,
                         batch=2, device="cpu", val_samples=1, preview_every=10_000, val_every=10_000,
                         save_every=10_000, workers=2, minutes=0.002)
    result = train(config, log=lambda *a: None)
    assert 1 <= result["steps"] < 10_000  # stopped by the clock, not the step count
    state = load_checkpoint(out / "last.pt")  # a checkpoint is written at the stop
    assert state["step"] == result["steps"]
    assert json.loads((out / "val.jsonl").read_text().splitlines()[-1])["step"] == result["steps"]


def test_worker_batches_differ_between_workers(photo_dir):
    from inpaint_studio.training.dataset import PhotoCrops, list_photos, read_rgb
    from inpaint_studio.training.train import BatchStream

    crops = PhotoCrops([read_rgb(p) for p in list_photos(photo_dir)], 32)
    loader = torch.utils.data.DataLoader(BatchStream(crops, 2, True, [0, 0, 0]), batch_size=None,
                                         num_workers=2)
    first, second = [b for _, b in zip(range(2), loader)]  # one batch from each worker
    assert first[0].shape == (2, 32, 32, 3) and first[2].shape == (2, 32, 32)
    assert not np.array_equal(first[0], second[0])


def test_keep_writes_the_generator_of_every_checkpoint(photo_dir, tmp_path):
    out = tmp_path / "run"
    config = TrainConfig(engine="gated", sketch=True, data=str(photo_dir), out=str(out), size=64,
                         steps=2, batch=1, device="cpu", preview_every=1, val_every=2, save_every=1,
                         val_samples=1, keep=True)
    train(config, log=lambda *a: None)
    kept = sorted(p.name for p in out.glob("gen_*.pth"))
    assert kept == ["gen_0000001.pth", "gen_0000002.pth"]
    first, last = (load_checkpoint(out / name) for name in kept)
    exported = load_checkpoint(export_weights(out / "last.pt", tmp_path / "export.pth"))
    assert last["steps"] == 2 and first["steps"] == 1 and last["layout"] == "gated-sketch"
    for k, v in exported["state_dict"].items():
        assert torch.equal(last["state_dict"][k], v)
    assert any(not torch.equal(first["state_dict"][k], v) for k, v in exported["state_dict"].items())


def test_decay_lowers_the_learning_rate_linearly_to_zero_at_the_last_step(photo_dir, tmp_path):
    from inpaint_studio.training.train import decayed_lr

    assert [decayed_lr(1e-4, 10, s, 14) for s in (10, 11, 13, 14, 20)] == pytest.approx([1e-4, 7.5e-5, 2.5e-5, 0, 0])
    config = TrainConfig(engine="gated", sketch=True, data=str(photo_dir), out=str(tmp_path / "run"), size=64,
                         steps=2, batch=1, device="cpu", preview_every=10, val_every=10, save_every=10,
                         val_samples=1, lr=1e-4)
    train(config, log=lambda *a: None)
    config.resume, config.steps, config.decay = str(tmp_path / "run" / "last.pt"), 4, True
    train(config, log=lambda *a: None)
    state = load_checkpoint(tmp_path / "run" / "last.pt")
    assert state["step"] == 4 and state["config"]["decay"]
    # the last update (step 3 -> 4) ran at 1e-4 * (4 - 3) / (4 - 2)
    assert state["opt_g"]["param_groups"][0]["lr"] == pytest.approx(5e-5)
    assert state["opt_d"]["param_groups"][0]["lr"] == pytest.approx(5e-5)


def test_slim_checkpoint_resumes_generator_and_discriminator(photo_dir, tmp_path):
    from inpaint_studio.training.train import build_discriminator, build_generator, resume_from, slim_checkpoint

    config = TrainConfig(engine="pennet", data=str(photo_dir), out=str(tmp_path / "a"), size=64, steps=2,
                         batch=1, device="cpu", preview_every=2, val_every=2, save_every=2, val_samples=1)
    train(config, log=lambda *a: None)
    full = tmp_path / "a" / "last.pt"
    slim = slim_checkpoint(full, tmp_path / "slim.pt")
    assert slim.stat().st_size < full.stat().st_size / 2
    G, D = build_generator("pennet", False), build_discriminator("pennet", False)
    opts = [torch.optim.Adam(m.parameters()) for m in (G, D)]
    assert resume_from(slim, config, G, D, *opts) == 2
    saved = load_checkpoint(full)
    for model, key in ((G, "G"), (D, "D")):
        for k, v in model.state_dict().items():
            if v.is_floating_point():
                torch.testing.assert_close(v, saved[key][k], atol=2e-3, rtol=2e-3)
    assert opts[0].state_dict()["state"] == {}  # optimisers start afresh


def test_cli_train_with_time_budget_workers_and_export(photo_dir, tmp_path):
    from inpaint_studio.cli import main

    exported = tmp_path / "pennet.pth"
    code = main(["train", "--engine", "pennet", "--data", str(photo_dir), "--out", str(tmp_path / "run"),
                 "--size", "64", "--batch", "1", "--steps", "100000", "--every", "100000",
                 "--minutes", "0.002", "--workers", "1", "--device", "cpu", "--export", str(exported),
                 "--slim", str(tmp_path / "slim.pt"), "--keep", "--adv-weight", "0.5", "--decay",
                 "--holes", "0.05-0.35"])
    assert code == 0
    payload = torch.load(exported, weights_only=True)
    assert payload["engine"] == "pennet" and 1 <= payload["steps"] < 100_000
    assert [p.name for p in (tmp_path / "run").glob("gen_*.pth")] == [f"gen_{payload['steps']:07d}.pth"]
    slim = torch.load(tmp_path / "slim.pt", weights_only=True)
    assert set(slim) == {"G", "D", "step", "config"} and slim["step"] == payload["steps"]
    assert slim["config"]["adv_weight"] == 0.5 and slim["config"]["keep"] and slim["config"]["decay"]
    assert list(slim["config"]["holes"]) == [0.05, 0.35]


@pytest.mark.parametrize("value", ["0.3-0.1", "5-35", "0.2", "a-b"])
def test_cli_train_refuses_bad_hole_ranges(photo_dir, tmp_path, capsys, value):
    from inpaint_studio.cli import main

    code = main(["train", "--engine", "gated", "--data", str(photo_dir), "--out", str(tmp_path / "run"),
                 "--holes", value])
    assert code == 2
    assert "--holes" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("option, message", [(["--hole-weight", "6"], "--hole-weight is for the gated engine"),
                                             (["--grad-weight", "-2"], "--grad-weight must be 0 or more")])
def test_cli_train_passes_loss_weights(photo_dir, tmp_path, capsys, option, message):
    from inpaint_studio.cli import main

    code = main(["train", "--engine", "pennet", "--data", str(photo_dir), "--out", str(tmp_path / "run")]
                + option)
    assert code != 0
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_torchrun_trains_on_two_processes_and_exports_once(photo_dir, tmp_path):
    import subprocess
    import sys

    exported = tmp_path / "w.pth"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "inpaint_studio", "train", "--engine", "pennet", "--data", str(photo_dir),
           "--out", str(tmp_path / "run"), "--size", "64", "--batch", "1", "--steps", "3", "--every", "3",
           "--device", "cpu", "--export", str(exported)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("trained to step 3") == 1  # the first process reports
    assert torch.load(exported, weights_only=True)["steps"] == 3
    assert len((tmp_path / "run" / "val.jsonl").read_text().splitlines()) == 1
