"""LearnedEngine: weight choice, strict loading, pre/post-processing, OOM fallback."""
import types

import numpy as np
import pytest
import torch

from inpaint_studio.core.errors import Cancelled, UserError
from inpaint_studio.core.types import CancelToken
from inpaint_studio.engines import learned
from inpaint_studio.engines.base import EngineInfo
from inpaint_studio.engines.learned import LearnedEngine, match_state_dict, to_tensors, to_uint8


class Echo(torch.nn.Module):
    """Returns the image plus ``offset`` (a parameter, so loading is observable)."""

    def __init__(self):
        super().__init__()
        self.offset = torch.nn.Parameter(torch.zeros(1))

    def forward(self, image):
        return image + self.offset


class EchoEngine(LearnedEngine):
    info = EngineInfo(name="echo", title="Echo", description="test", target="x:y",
                      uses_torch=True, weights=("echo-a", "echo-b"))

    def build_network(self):
        return Echo()

    def run_network(self, net, image, hole, sketch, params, check):
        check()
        self.seen = (image, hole, sketch)
        return net(image)


def fake_weights(monkeypatch, installed):
    loads = []
    module = types.SimpleNamespace(
        missing_reason=lambda e: "" if e in installed else f"weights '{e}' are not installed",
        load_state_dict=lambda e, device="cpu": loads.append(e) or {"offset": torch.tensor([installed[e]])})
    monkeypatch.setattr(learned, "weights", module)  # what LearnedEngine.load reads
    return loads


def picture(seed=0):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (16, 24, 3), dtype=np.uint8)
    hole = np.zeros((16, 24), bool)
    hole[4:9, 6:15] = True
    return image, hole


def test_pixels_survive_the_round_trip_and_only_the_hole_changes(monkeypatch):
    fake_weights(monkeypatch, {"echo-a": 0.5})
    engine = EchoEngine("cpu")
    image, hole = picture()
    sketch = np.zeros_like(hole)
    sketch[5, :] = True
    out = engine.fill(image, hole, sketch)
    img, m, s = engine.seen
    assert img.shape == (1, 3, 16, 24) and img.min() >= -1 and img.max() <= 1
    assert torch.equal(m[0, 0] > 0, torch.from_numpy(hole)) and torch.equal(s[0, 0] > 0, torch.from_numpy(sketch))
    assert np.array_equal(out[~hole], image[~hole])
    expected = np.clip(image.astype(int) + 64, 0, 255)  # +0.5 in [-1, 1] is +63.75
    assert np.abs(out[hole].astype(int) - expected[hole]).max() <= 1
    assert np.array_equal(to_uint8(to_tensors(image, hole, None, "cpu")[0]), image)


def test_first_installed_weights_win_and_the_model_stays_loaded(monkeypatch):
    loads = fake_weights(monkeypatch, {"echo-b": 0.25})
    engine = EchoEngine("cpu")
    image, hole = picture()
    engine.fill(image, hole)
    engine.fill(image, hole)
    assert loads == ["echo-b"] and engine.weights_name == "echo-b"
    engine.unload()
    assert engine.net is None
    fake_weights(monkeypatch, {"echo-a": 0.0, "echo-b": 0.25})
    engine.load()
    assert engine.weights_name == "echo-a"


def test_no_installed_weights_is_a_user_error(monkeypatch):
    fake_weights(monkeypatch, {})
    with pytest.raises(UserError, match="'echo-a' are not installed"):
        EchoEngine("cpu").load()


def test_strict_loading_names_the_problem():
    engine = EchoEngine("cpu")
    with pytest.raises(UserError, match="1 missing: offset"):
        engine.load_state({})
    with pytest.raises(UserError, match=r"wrong shape: offset \(2,\) \(want \(1,\)\)"):
        engine.load_state({"offset": torch.zeros(2)})
    with pytest.raises(UserError, match="1 unexpected: extra"):
        match_state_dict({"offset": torch.zeros(1), "extra": torch.zeros(1)}, {"offset": (1,)}, "x")


def test_empty_hole_and_cancel(monkeypatch):
    fake_weights(monkeypatch, {"echo-a": 0.5})
    engine = EchoEngine("cpu")
    image, hole = picture()
    assert np.array_equal(engine.fill(image, np.zeros_like(hole)), image)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        engine.fill(image, hole, cancel=token)


class MovableEcho(Echo):
    def to(self, device):  # no CUDA here: record moves instead of doing them
        self.moves.append(str(device))
        return self


def test_cuda_out_of_memory_retries_in_half_then_runs_on_cpu(monkeypatch):
    engine = EchoEngine("cpu")
    engine.load_state({"offset": torch.tensor([0.5])})
    engine.net = MovableEcho()
    engine.net.moves = []
    engine.torch_device = torch.device("cuda")
    tries = []
    real_forward = engine._forward

    def forward(device, half, *args):
        tries.append((device.type, half))
        if device.type == "cuda":
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB")
        return real_forward(device, half, *args)

    monkeypatch.setattr(engine, "_forward", forward)
    messages = []
    image, hole = picture()
    out = engine.fill(image, hole, progress=lambda f, m: messages.append(m))
    assert tries == [("cuda", False), ("cuda", True), ("cpu", False)]
    assert "GPU out of memory, continuing on CPU" in messages
    assert engine.net.moves == ["cpu", "cuda"]
    assert np.array_equal(out[~hole], image[~hole])


def test_other_errors_are_not_swallowed():
    engine = EchoEngine("cpu")
    engine.load_state({"offset": torch.tensor([0.5])})
    engine.run_network = lambda *a: (_ for _ in ()).throw(ValueError("boom"))
    with pytest.raises(ValueError, match="boom"):
        engine.fill(*picture())
