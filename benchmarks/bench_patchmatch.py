"""Our PatchMatch engine vs pypatchmatch on the same photos and holes, in one run.

Photos: scikit-image samples, upscaled (INTER_CUBIC) just enough for a 2 x 2 mirrored mosaic
to cover each size (so the hole's content never exists elsewhere unflipped); holes: a
passer-by-like blob (ellipse body + round head) of ~5 % of the photo, away from the borders,
fixed seeds. Ours is called the way the app calls it (pipeline run_fill:
one crop around the hole with context margin); pypatchmatch gets the whole photo. Every
fill runs in a fresh subprocess, which reports its wall time and peak RSS (ru_maxrss).

    python benchmarks/bench_patchmatch.py            # 0.26, 0.4, 2 MP (+ ours at 12 MP)
    python benchmarks/bench_patchmatch.py --full     # also pypatchmatch at 12 MP (~60 s+)
    python benchmarks/bench_patchmatch.py --sizes 512 2mp --photos astronaut
    python benchmarks/bench_patchmatch.py --threads 1   # ours on one core, like pypatchmatch

On a shared, oversubscribed CPU torch's default thread pool can be several times slower
than one thread (threads wait on each other); note the printed load and compare ratios
from the same run.

Columns: time (s), ratio = pypatchmatch time / ours, hole PSNR (dB, vs the true pixels),
texture = mean |Laplacian| inside the hole relative to the truth (1.0 = as textured as the
truth; blurred fills score ~0.6 or less), peak RSS (MB) of our subprocess.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np

SIZES = {  # name -> (height, width)
    "512": (512, 512),
    "0.4mp": (512, 768),
    "1mp": (864, 1152),
    "2mp": (1224, 1632),
    "12mp": (3000, 4000),
}
PATCH = 7  # pypatchmatch's patch size (ours uses its shipped default)


def photo(name: str, height: int, width: int) -> np.ndarray:
    import skimage.data

    img = getattr(skimage.data, name)()
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    img = np.ascontiguousarray(img[..., :3])
    # smallest upscale after which a 2 x 2 mirrored mosaic covers the size: no tile appears
    # twice in the same orientation, so no exact copy of the hole's content exists elsewhere
    scale = max(1.0, height / (2 * img.shape[0]), width / (2 * img.shape[1]))
    if scale > 1:
        img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    reps_y = -(-height // img.shape[0])
    reps_x = -(-width // img.shape[1])
    tiles = [[img[::1 if i % 2 == 0 else -1, ::1 if j % 2 == 0 else -1] for j in range(reps_x)]
             for i in range(reps_y)]
    mosaic = np.concatenate([np.concatenate(row, axis=1) for row in tiles], axis=0)
    return np.ascontiguousarray(mosaic[:height, :width])


def blob_hole(height: int, width: int, fraction: float, seed: int, box=None) -> np.ndarray:
    """A standing figure: ellipse body + round head, ``fraction`` of the photo's area."""
    rng = np.random.default_rng(seed)
    area = fraction * height * width
    # body ellipse a x b (b = 2.2 a) plus head of radius 0.55 a: area ~ pi a^2 (2.2 + 0.3)
    a = np.sqrt(area / (np.pi * 2.5))
    b, head = 2.2 * a, 0.55 * a
    span_y, span_x = int(b + 2 * head) + 8, int(a) + 8
    lo_y, hi_y = span_y + height // 10, height - span_y - height // 10
    lo_x, hi_x = span_x + width // 10, width - span_x - width // 10
    if box is not None:
        lo_y, hi_y, lo_x, hi_x = box
    cy, cx = int(rng.integers(lo_y, max(lo_y + 1, hi_y))), int(rng.integers(lo_x, max(lo_x + 1, hi_x)))
    tilt = float(rng.uniform(-12, 12))
    mask = np.zeros((height, width), np.uint8)
    cv2.ellipse(mask, (cx, cy), (int(a), int(b)), tilt, 0, 360, 1, -1)
    cv2.circle(mask, (cx + int(np.sin(np.radians(tilt)) * (b + head)), cy - int(b + 0.8 * head)),
               int(head), 1, -1)
    return mask > 0


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = ((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean()
    return float(10 * np.log10(255.0 ** 2 / max(mse, 1e-10)))


def texture(img: np.ndarray, hole: np.ndarray) -> float:
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return float(np.abs(cv2.Laplacian(grey, cv2.CV_32F))[hole].mean())


# -- worker (one fill per fresh process) ---------------------------------------------------
def worker(kind: str, case: str, out_path: str, threads: int) -> None:
    data = np.load(case)
    image, hole = data["image"], data["hole"]
    if kind == "ours":
        from inpaint_studio.engines import registry
        from inpaint_studio.pipeline.run import run_fill

        if threads:
            import torch

            torch.set_num_threads(threads)
        engine = registry.create("patchmatch")
        engine.load()
        start = time.perf_counter()
        out = run_fill(image, hole, engine).image  # the shipped defaults, as the editor runs it
    else:
        from patchmatch import patch_match

        start = time.perf_counter()
        out = patch_match.inpaint(image, hole.astype(np.uint8) * 255, patch_size=PATCH)
    seconds = time.perf_counter() - start
    np.save(out_path, out)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb}))


def run_case(kind: str, image: np.ndarray, hole: np.ndarray, tmp: str, threads: int = 0) -> tuple[dict, np.ndarray]:
    case = os.path.join(tmp, "case.npz")
    out = os.path.join(tmp, f"out_{kind}.npy")
    np.savez(case, image=image, hole=hole)
    proc = subprocess.run([sys.executable, __file__, "--worker", kind, case, out, str(threads)],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1]), np.load(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also run pypatchmatch at 12 MP")
    parser.add_argument("--sizes", nargs="*", default=["512", "0.4mp", "2mp", "12mp"])
    parser.add_argument("--photos", nargs="*", default=["astronaut", "coffee", "chelsea"])
    parser.add_argument("--no-scaling", action="store_true", help="skip the 1 MP vs 12 MP case")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads for ours (default: torch's own choice)")
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker[:3], int(args.worker[3]))
        return

    from patchmatch import patch_match  # noqa: F401  (compiles its C++ once, before timing)

    from inpaint_studio.engines import registry

    telea = registry.create("telea")
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1/5 min), cpus: {os.cpu_count()}, "
          f"pypatchmatch patch {PATCH}, ours: shipped defaults, torch threads for ours: "
          f"{args.threads or 'default'}")
    head = (f"{'size':>6} {'photo':>10} {'hole%':>5} | {'ours s':>6} {'pm s':>6} {'ratio':>5} | "
            f"{'PSNR ours':>9} {'pm':>5} {'telea':>5} | {'tex ours':>8} {'pm':>5} {'telea':>5} | {'peak MB':>7}")
    print(head)
    print("-" * len(head))
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            h, w = SIZES[size]
            for seed, name in enumerate(args.photos):
                image = photo(name, h, w)
                hole = blob_hole(h, w, 0.05, seed)
                truth_tex = texture(image, hole)
                ours, ours_img = run_case("ours", image, hole, tmp, args.threads)
                row = {"p_ours": psnr(ours_img[hole], image[hole]), "t_ours": texture(ours_img, hole) / truth_tex}
                tel = telea.fill(image, hole)
                row.update(p_tel=psnr(tel[hole], image[hole]), t_tel=texture(tel, hole) / truth_tex)
                if size != "12mp" or args.full:
                    theirs, their_img = run_case("theirs", image, hole, tmp)
                    pm_s = f"{theirs['seconds']:6.2f}"
                    ratio = f"{theirs['seconds'] / ours['seconds']:5.1f}"
                    p_pm = f"{psnr(their_img[hole], image[hole]):5.1f}"
                    t_pm = f"{texture(their_img, hole) / truth_tex:5.2f}"
                else:
                    pm_s, ratio, p_pm, t_pm = f"{'-':>6}", f"{'-':>5}", f"{'-':>5}", f"{'-':>5}"
                print(f"{size:>6} {name:>10} {100 * hole.mean():5.1f} | {ours['seconds']:6.2f} {pm_s} {ratio} | "
                      f"{row['p_ours']:9.1f} {p_pm} {row['p_tel']:5.1f} | {row['t_ours']:8.2f} {t_pm} "
                      f"{row['t_tel']:5.2f} | {ours['peak_mb']:7.0f}", flush=True)
                if size == "12mp":
                    break  # one photo at 12 MP
        if not args.no_scaling:
            print("\nsame hole (5 % of 1 MP) in a 1 MP and a 12 MP photo, ours via run_fill:")
            for size in ("1mp", "12mp"):
                h, w = SIZES[size]
                image = photo("astronaut", h, w)
                hole = blob_hole(864, 1152, 0.05, 11)
                full = np.zeros((h, w), bool)
                full[:864, :1152] = hole
                ours, _ = run_case("ours", image, full, tmp, args.threads)
                print(f"{size:>6}: {ours['seconds']:.2f} s, peak {ours['peak_mb']:.0f} MB")
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
