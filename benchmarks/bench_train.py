"""Training throughput: seconds per step of each trainable network, and where it goes.

    python benchmarks/bench_train.py [--engines pennet gated] [--size 256] [--batch 8]
                                     [--steps 5] [--device auto|cpu|cuda] [--threads 2]
                                     [--data data/photos]

For each engine it prints the seconds per training step (generator and discriminator,
reconstruction plus adversarial losses, mixed precision on CUDA) and samples per second,
with the peak GPU memory on CUDA. It then times PEN-Net's finest attention level (the
largest all-pairs product) forward and backward two ways in the same run: batched matrix
products (engines.attention.attend_reference, what training uses) against one
convolution per sample (the papers' formulation), with the largest output difference.
Last, the rate at which one process makes training samples (crop + hole + sketch), to
size ``--workers``.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F


def sync(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed(fn, device, repeat: int) -> float:
    """Best seconds per call of ``fn`` over ``repeat`` calls, after one warm-up."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        sync(device)
        start = time.perf_counter()
        fn()
        sync(device)
        best = min(best, time.perf_counter() - start)
    return best


def train_step_time(engine: str, size: int, batch: int, steps: int, device) -> float:
    from inpaint_studio.training.train import build_discriminator, build_generator, discriminator_loss, generator_losses

    sketch_on = engine == "gated"
    G = build_generator(engine, sketch_on).to(device)
    D = build_discriminator(engine, sketch_on).to(device)
    opt_g = torch.optim.Adam(G.parameters(), 1e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), 1e-4, betas=(0.5, 0.999))
    amp = device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=amp)
    gen = torch.Generator().manual_seed(0)
    image = (torch.rand(batch, 3, size, size, generator=gen) * 2 - 1).to(device)
    hole = (torch.rand(batch, 1, size // 16, size // 16, generator=gen) > 0.6).float()
    hole = F.interpolate(hole, size=(size, size)).to(device)
    sketch = (torch.rand(batch, 1, size, size, generator=gen) > 0.97).float().to(device) * hole \
        if sketch_on else None

    def step():
        with torch.autocast(device.type, dtype=torch.float16, enabled=amp):
            g_loss, _, comp = generator_losses(engine, G, D, image, hole, sketch, True)
        opt_g.zero_grad(set_to_none=True)
        scaler.scale(g_loss).backward()
        scaler.step(opt_g)
        with torch.autocast(device.type, dtype=torch.float16, enabled=amp):
            d_loss = discriminator_loss(engine, D, image, comp, hole, sketch)
        opt_d.zero_grad(set_to_none=True)
        scaler.scale(d_loss).backward()
        scaler.step(opt_d)
        scaler.update()

    return timed(step, device, steps)


def attention_by_convolution(f, raw, valid, ksize=3, rate=2, scale=10.0, clamp=1e-8):
    """All-pairs attention as one convolution (scores) and one transposed convolution
    (pasting) per sample: the papers' formulation, for comparison."""
    from inpaint_studio.engines.attention import EPS

    h, w = f.shape[2:]
    out = []
    for i in range(f.shape[0]):
        keys = F.unfold(f[i:i + 1], ksize, padding=ksize // 2)[0].t()
        keys = keys / keys.norm(dim=1, keepdim=True).clamp(min=EPS)
        score = F.conv2d(f[i:i + 1], keys.view(h * w, f.shape[1], ksize, ksize), padding=ksize // 2)
        mm = valid[i].to(score.dtype).view(1, -1, 1, 1)
        weight = (F.softmax(score * mm * scale, dim=1) * mm).clamp(min=clamp)
        pad = rate // 2
        patches = F.unfold(F.pad(raw[i:i + 1], (pad,) * 4), 2 * rate, stride=rate)[0].t()
        patches = patches.reshape(h * w, raw.shape[1], 2 * rate, 2 * rate)
        out.append(F.conv_transpose2d(weight, patches, stride=rate, padding=pad) / 4.0)
    return torch.cat(out)


def attention_times(size: int, batch: int, device, repeat: int) -> tuple[float, float, float]:
    """PEN-Net's finest level: queries/keys on a size/4 grid (64 channels), pasting size/2
    patches (32 channels). Returns (batched s, per-sample convolution s, max |difference|)."""
    from inpaint_studio.engines.attention import attend_reference

    n = size // 4
    gen = torch.Generator().manual_seed(1)
    f = torch.randn(batch, 64, n, n, generator=gen).to(device).requires_grad_()
    raw = torch.randn(batch, 32, 2 * n, 2 * n, generator=gen).to(device).requires_grad_()
    valid = (torch.rand(batch, n * n, generator=gen) > 0.3).to(device)
    amp = device.type == "cuda"

    def run(fn):
        def once():
            with torch.autocast(device.type, dtype=torch.float16, enabled=amp):
                out = fn()
            out.float().sum().backward()
        return once

    batched = lambda: attend_reference(f, f, raw, valid, clamp=1e-8)  # noqa: E731
    convs = lambda: attention_by_convolution(f, raw, valid)  # noqa: E731
    with torch.no_grad():
        diff = float((batched() - convs()).abs().max())
    return timed(run(batched), device, repeat), timed(run(convs), device, repeat), diff


def sample_rate(data: str, size: int, count: int = 40) -> tuple[float, float]:
    """Samples per second made by one process, without and with a sketch."""
    from inpaint_studio.training.dataset import PhotoCrops, list_photos, read_rgb

    if data and Path(data).is_dir():
        crops = PhotoCrops([read_rgb(p) for p in list_photos(Path(data))], size)
    else:
        rng = np.random.default_rng(0)
        crops = PhotoCrops([rng.integers(0, 255, (1200, 1600, 3), dtype=np.uint8)], size)
    rates = []
    for with_sketch in (False, True):
        rng = np.random.default_rng(0)
        start = time.perf_counter()
        for _ in range(count):
            crops.sample(rng, with_sketch=with_sketch)
        rates.append(count / (time.perf_counter() - start))
    return rates[0], rates[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", nargs="+", default=["pennet", "gated"])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--data", default="data/photos")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    from inpaint_studio.engines.device import pick_device

    device = pick_device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    print(f"device {device}, {args.size} px, batch {args.batch}, best of {args.steps} steps")
    for engine in args.engines:
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        seconds = train_step_time(engine, args.size, args.batch, args.steps, device)
        memory = f", peak GPU memory {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB" \
            if device.type == "cuda" else ""
        print(f"{engine:7s} training step {seconds:.3f} s ({args.batch / seconds:.1f} samples/s){memory}")
    batched, convs, diff = attention_times(args.size, args.batch, device, max(args.steps, 2))
    print(f"PEN-Net finest attention, forward+backward: batched products {batched:.3f} s, "
          f"convolution per sample {convs:.3f} s ({convs / batched:.2f}x), max difference {diff:.1e}")
    plain, sketched = sample_rate(args.data, args.size)
    print(f"samples made by one process: {plain:.0f}/s, {sketched:.0f}/s with a sketch")


if __name__ == "__main__":
    main()
