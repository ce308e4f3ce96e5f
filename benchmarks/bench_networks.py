"""Forward time of the learned networks: fast attention vs the all-pairs reference.

    python benchmarks/bench_networks.py [--networks pennet gated] [--sizes 256 512]
                                        [--device cpu|cuda] [--threads 2] [--mask box|strokes]

Random-initialised networks (speed does not depend on the weights). For each network and
size it prints the forward time with fast and with reference attention (same run, same
input), the speed-up, the CPU seconds used (a steadier figure on a busy machine) and the
largest absolute difference of the outputs inside the hole.
Add a network by writing a ``Case`` factory and listing it in ``CASES``.
"""
from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch


@dataclass
class Case:
    """build(attention) -> module ("fast" | "reference"); run(net, image, mask) -> output."""

    build: Callable[[str], torch.nn.Module]
    run: Callable[[torch.nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]


def pennet_case() -> Case:
    from inpaint_studio.engines.pennet.network import PenNetGenerator, network_input

    def run(net, image, mask):
        return net(network_input(image, mask), mask)

    return Case(build=lambda attention: PenNetGenerator(attention), run=run)


def gated_case() -> Case:
    from inpaint_studio.engines.gated.network import build

    def make(attention):
        net = build("deepfill2-tf")
        net.attention = attention
        return net

    return Case(build=make, run=lambda net, image, mask: net(image, mask)[1])


CASES: dict[str, Callable[[], Case]] = {"pennet": pennet_case, "gated": gated_case}


def make_mask(size: int, kind: str) -> torch.Tensor:
    """(1, 1, size, size): a centred square of a quarter of the area, or brush strokes."""
    mask = np.zeros((size, size), np.float32)
    if kind == "box":
        a, b = size // 4, 3 * size // 4
        mask[a:b, a:b] = 1
    else:
        import cv2

        rng = np.random.default_rng(0)
        for _ in range(4):
            pts = rng.integers(size // 8, 7 * size // 8, (4, 2)).astype(np.int32)
            cv2.polylines(mask, [pts], False, 1.0, thickness=max(4, size // 24))
    return torch.from_numpy(mask)[None, None]


def timed(fn, device) -> tuple[float, float, torch.Tensor]:
    """(wall seconds, CPU seconds of this process, output)."""
    if device.type == "cuda":
        torch.cuda.synchronize()
    start, cpu = time.perf_counter(), time.process_time()
    out = fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, time.process_time() - cpu, out


def bench(name: str, size: int, device: torch.device, mask_kind: str, repeats: int) -> None:
    case = CASES[name]()
    torch.manual_seed(0)
    net = case.build("fast").eval().to(device)
    ref_net = case.build("reference").eval().to(device)
    ref_net.load_state_dict(net.state_dict())
    image = (torch.rand(1, 3, size, size) * 2 - 1).to(device)
    mask = make_mask(size, mask_kind).to(device)
    with torch.inference_mode():
        case.run(net, image, mask)  # warm-up (kernel selection, allocations)
        fast = [timed(lambda: case.run(net, image, mask), device) for _ in range(repeats)]
        ref = [timed(lambda: case.run(ref_net, image, mask), device) for _ in range(repeats)]
    (t_fast, c_fast), (t_ref, c_ref) = (min((t, c) for t, c, _ in runs) for runs in (fast, ref))
    inside = mask.expand_as(ref[0][2]) > 0
    diff = (fast[0][2] - ref[0][2])[inside].abs().max().item()
    hole = mask.mean().item() * 100
    print(f"{name:8s} {size:5d} {device.type:5s} {mask_kind:8s} {hole:5.1f}% "
          f"{t_fast:8.2f} {t_ref:8.2f} {t_ref / t_fast:7.1f}x {c_fast:8.2f} {c_ref:8.2f} {diff:10.2e}",
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--sizes", nargs="+", type=int, default=[256, 512])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--mask", default="box", choices=("box", "strokes"))
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {device}")
    print(f"{'network':8s} {'size':>5s} {'dev':5s} {'mask':8s} {'hole':>6s} "
          f"{'fast s':>8s} {'ref s':>8s} {'speedup':>8s} {'fast cpu':>8s} {'ref cpu':>8s} {'max diff':>10s}")
    print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; cpu = CPU seconds of this process)")
    for name in args.networks:
        for size in args.sizes:
            bench(name, size, device, args.mask, args.repeats)


if __name__ == "__main__":
    main()
