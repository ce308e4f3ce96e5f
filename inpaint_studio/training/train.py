"""Training loop for our own PEN-Net and sketch-guided gated-conv weights.

`train(TrainConfig)` runs on one device, or under `torchrun` with DistributedDataParallel
(one process per GPU). Checkpoints hold tensors and plain values only, so they load with
``torch.load(..., weights_only=True)``; `export_weights` writes the fp16 generator file
the weights manager installs.
"""
from __future__ import annotations

import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.distributed as dist
from torch.nn import functional as F

from inpaint_studio.core.errors import UserError
from inpaint_studio.engines.weights import FORMAT
from inpaint_studio.training.dataset import PhotoCrops, list_photos, read_rgb, split_photos
from inpaint_studio.training.holes import MAX_RATIO, MIN_RATIO, check_hole_range
from inpaint_studio.training.losses import (
    PatchDiscriminator,
    SNPatchGAN,
    gradient_l1,
    hinge_d_loss,
    hinge_g_loss,
    masked_l1,
)


@dataclass
class TrainConfig:
    engine: str  # "pennet" or "gated"
    data: str
    out: str
    sketch: bool = False
    size: int = 256
    steps: int = 1000
    batch: int = 4
    lr: float = 1e-4
    device: str = "auto"
    resume: str = ""
    seed: int = 0
    preview_every: int = 200
    val_every: int = 200
    save_every: int = 200
    val_samples: int = 24
    amp: bool = True
    adv_from: int = 0  # first step with the adversarial loss (0: from the start, as in the papers)
    adv_weight: float = 1.0  # times the papers' adversarial weight (lower: a gentler fine-tune)
    hole_weight: float = 1.0  # gated: weight of hole pixels in the L1 terms (the paper: 1, all pixels alike)
    grad_weight: float = 0.0  # weight of an L1 loss on pixel differences in the hole (not in the papers)
    minutes: float = 0.0  # stop (with a checkpoint) after this long; 0: no time limit
    workers: int = 0  # processes making samples; 0: in the training process
    keep: bool = False  # also write the generator of every checkpoint as OUT/gen_STEP.pth
    decay: bool = False  # lr falls linearly from lr at the first step to 0 at `steps`
    holes: tuple = (MIN_RATIO, MAX_RATIO)  # range of training hole ratios


# ---------------------------------------------------------------- networks


def build_generator(engine: str, sketch: bool) -> torch.nn.Module:
    if engine == "pennet":
        if sketch:
            raise UserError("--sketch is only available for the gated engine")
        from inpaint_studio.engines.pennet.network import PenNetGenerator

        net = PenNetGenerator()
        net.attention = "reference"  # the tiled inference path syncs per tile: slow on GPUs
        return net
    if engine == "gated":
        from inpaint_studio.engines.gated.network import DeepFillV2

        net = DeepFillV2(in_channels=6 if sketch else 5)
        net.attention = "reference"  # all pairs: differentiable, and small at training sizes
        return net
    raise UserError(f"cannot train engine '{engine}' (choose pennet or gated)")


def build_discriminator(engine: str, sketch: bool) -> torch.nn.Module:
    if engine == "pennet":
        return PatchDiscriminator(3)
    return SNPatchGAN(5 if sketch else 4)


def generator_losses(engine, G, D, image, hole, sketch, adversarial=True, adv_weight=1.0, hole_weight=1.0,
                     grad_weight=0.0):
    """(total generator loss, dict of parts, composite output); ``adv_weight`` scales the
    papers' adversarial weight (PEN-Net 0.1, DeepFill v2 1); ``hole_weight`` (gated) weights
    hole pixels against valid ones in the L1 terms; ``grad_weight`` adds ``gradient_l1`` of
    the final output in the hole."""
    valid = 1 - hole
    parts = {}
    if engine == "pennet":
        from inpaint_studio.engines.pennet.network import network_input

        pyramid, out = G(network_input(image, hole), hole, pyramid=True)
        parts["hole"] = 6 * masked_l1(out, image, hole)
        parts["valid"] = masked_l1(out, image, valid)
        pyr = 0.0
        for level in pyramid:
            target = F.interpolate(image, size=level.shape[-2:], mode="bilinear", align_corners=False)
            pyr = pyr + (level - target).abs().mean()
        parts["pyramid"] = 0.5 * pyr
        comp = out * hole + image * valid
        final = out
        if adversarial:
            parts["adv"] = 0.1 * adv_weight * hinge_g_loss(D(comp))
    else:
        coarse, refined = G(image, hole, sketch)
        weight = 1 + (hole_weight - 1) * hole
        parts["coarse"] = ((coarse - image).abs() * weight).mean()
        parts["refined"] = ((refined - image).abs() * weight).mean()
        comp = refined * hole + image * valid
        final = refined
        if adversarial:
            parts["adv"] = adv_weight * hinge_g_loss(D(comp, _d_extra(hole, sketch)))
    if grad_weight:
        parts["grad"] = grad_weight * gradient_l1(final, image, hole)
    return sum(parts.values()), parts, comp


def _d_extra(hole, sketch):
    return hole if sketch is None else torch.cat([hole, sketch], 1)


def discriminator_loss(engine, D, image, comp, hole, sketch):
    if engine == "pennet":
        return hinge_d_loss(D(image), D(comp.detach()))
    extra = _d_extra(hole, sketch)
    return hinge_d_loss(D(image, extra), D(comp.detach(), extra))


# ---------------------------------------------------------------- data


def stack(samples):
    """Samples -> (images N,H,W,3 uint8, holes N,H,W bool, sketches N,H,W bool or None)."""
    sketch = None if samples[0][2] is None else np.stack([s[2] for s in samples])
    return np.stack([s[0] for s in samples]), np.stack([s[1] for s in samples]), sketch


def batch_tensors(batch, device):
    images, holes, sketch = (None if a is None else torch.as_tensor(a) for a in batch)
    images = images.to(device, non_blocking=True).permute(0, 3, 1, 2).float() / 127.5 - 1
    holes = holes.to(device, non_blocking=True).float()[:, None]
    if sketch is not None:
        sketch = sketch.to(device, non_blocking=True).float()[:, None]
    return images, holes, sketch


def to_tensors(samples, device):
    return batch_tensors(stack(samples), device)


class BatchStream(torch.utils.data.IterableDataset):
    """Endless batches made in worker processes, each with its own random stream."""

    def __init__(self, crops: PhotoCrops, batch: int, sketch: bool, seed: list[int]) -> None:
        self.crops, self.batch, self.sketch, self.seed = crops, batch, sketch, seed

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        rng = np.random.default_rng(self.seed + [info.id if info else 0])
        while True:
            yield stack([self.crops.sample(rng, with_sketch=self.sketch) for _ in range(self.batch)])


def batches(config: TrainConfig, crops: PhotoCrops, seed: list[int], device):
    """Iterator of training batches as numpy arrays: in this process, or from workers."""
    if config.workers <= 0:
        rng = np.random.default_rng(seed)
        while True:
            yield stack([crops.sample(rng, with_sketch=config.sketch) for _ in range(config.batch)])
    loader = torch.utils.data.DataLoader(
        BatchStream(crops, config.batch, config.sketch, seed), batch_size=None,
        num_workers=config.workers, prefetch_factor=4, pin_memory=device.type == "cuda",
        persistent_workers=True)
    yield from loader


def load_split(data: Path) -> tuple[list[Path], list[Path]]:
    """Train/val photo lists: from manifest.json (scripts/gather_photos.py) when present, else every 10th held out."""
    manifest = data / "manifest.json"
    if manifest.exists():
        info = json.loads(manifest.read_text())
        photos = info.get("images", []) if isinstance(info, dict) else []
        train = [data / p["file"] for p in photos if p.get("split") == "train"]
        val = [data / p["file"] for p in photos if p.get("split") == "val"]
        if train and val:
            return train, val
    return split_photos(list_photos(data))


def validation_set(paths: list[Path], size: int, count: int, sketch: bool):
    crops = PhotoCrops([read_rgb(p) for p in paths], size)
    rng = np.random.default_rng(12345)
    return [crops.sample(rng, with_sketch=sketch) for _ in range(count)]


@torch.no_grad()
def evaluate(engine, G, samples, device) -> dict:
    """Hole L1 (0..255 scale) and hole PSNR over fixed held-out samples."""
    G.eval()
    l1 = sq = n = 0.0
    for i in range(0, len(samples), 4):
        image, hole, sketch = to_tensors(samples[i:i + 4], device)
        if engine == "pennet":
            from inpaint_studio.engines.pennet.network import network_input

            out = G(network_input(image, hole), hole)
        else:
            out = G(image, hole, sketch)[1]
        diff = (out.clamp(-1, 1) - image) * 127.5 * hole
        area = hole.sum() * 3
        l1 += float(diff.abs().sum())
        sq += float((diff ** 2).sum())
        n += float(area)
    G.train()
    return _figures("hole", l1, sq, n)


def _figures(name: str, l1: float, sq: float, n: float) -> dict:
    """Mean absolute error and PSNR (0..255 scale) from sums over ``n`` values."""
    mse = sq / max(n, 1)
    return {f"{name}_l1": l1 / max(n, 1), f"{name}_psnr": 10 * math.log10(255 ** 2 / max(mse, 1e-8))}


def telea_baseline(samples) -> dict:
    """The same figures for OpenCV's Telea fill of the same samples: the bar to beat."""
    l1 = sq = n = 0.0
    for image, hole, _ in samples:
        out = cv2.inpaint(image, hole.astype(np.uint8) * 255, 3, cv2.INPAINT_TELEA)
        diff = out[hole].astype(np.float64) - image[hole]
        l1 += float(np.abs(diff).sum())
        sq += float((diff ** 2).sum())
        n += diff.size
    return _figures("telea", l1, sq, n)


def save_preview(path: Path, image, hole, comp) -> None:
    def rgb(t):
        return ((t[0].clamp(-1, 1) + 1) * 127.5).byte().permute(1, 2, 0).cpu().numpy()

    masked = rgb(image).copy()
    masked[hole[0, 0].cpu().numpy() > 0] = 255
    row = np.concatenate([masked, rgb(comp), rgb(image)], 1)
    cv2.imwrite(str(path), cv2.cvtColor(row, cv2.COLOR_RGB2BGR))


# ---------------------------------------------------------------- checkpoints


def save_checkpoint(path: Path, state: dict) -> None:
    """Write to a temp file, then rename; an unwritable place is a UserError."""
    tmp = path.with_suffix(".tmp")
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)
    except (OSError, RuntimeError) as exc:  # torch reports a missing folder as RuntimeError
        if tmp.parent.is_dir():
            tmp.unlink(missing_ok=True)
        raise UserError(f"cannot write {path}: {str(exc).strip().splitlines()[0]}") from None


def load_checkpoint(path: Path) -> dict:
    if not Path(path).exists():
        raise UserError(f"checkpoint not found: {path}")
    return torch.load(path, map_location="cpu", weights_only=True)


def resume_from(path: Path, config: TrainConfig, G, D, opt_g, opt_d) -> int:
    """Load a training checkpoint (everything) or an exported weights file (the generator
    only: fine-tuning shipped weights, or a small file to carry to another machine; the
    discriminator and optimisers start afresh). Returns the step to continue from."""
    state = load_checkpoint(path)
    if state.get("format") == FORMAT:
        sketch = state.get("layout") == "gated-sketch"
        if state.get("engine") != config.engine or sketch != (config.engine == "gated" and config.sketch):
            raise UserError(f"{path.name} holds {state.get('engine')} weights ({state.get('layout')}), "
                            f"not what --engine {config.engine}{' --sketch' if config.sketch else ''} trains")
        try:
            G.load_state_dict({k: v.float() if v.is_floating_point() else v
                               for k, v in state["state_dict"].items()})
        except RuntimeError as error:
            raise UserError(f"{path.name} does not fit the network: {str(error).splitlines()[0]}") from None
        return int(state.get("steps", 0))
    G.load_state_dict(state["G"])
    D.load_state_dict(state["D"])
    if "opt_g" in state:  # a slim checkpoint has none: the optimisers start afresh
        opt_g.load_state_dict(state["opt_g"])
        opt_d.load_state_dict(state["opt_d"])
    for group in opt_g.param_groups + opt_d.param_groups:
        group["lr"] = config.lr  # --lr holds on resume too (e.g. lower it for fine-tuning)
    return int(state["step"])


def slim_checkpoint(checkpoint: Path, out: Path) -> Path:
    """Generator and discriminator in fp16, without optimiser states: a small file that
    resumes training (adversarial included) on another machine."""
    state = load_checkpoint(checkpoint)
    slim = {k: state[k] for k in ("step", "config")}
    for name in ("G", "D"):
        slim[name] = _half(state[name])
    save_checkpoint(Path(out), slim)
    return Path(out)


def _half(state: dict) -> dict:
    """A state_dict on the CPU with its floating-point tensors in fp16."""
    return {k: (v.detach().cpu().half() if v.is_floating_point() else v.detach().cpu())
            for k, v in state.items()}


def weights_payload(g_state: dict, config: dict, step: int) -> dict:
    """Our fp16 weights file (on the CPU) for a generator state_dict."""
    sd = _half(g_state)
    layout = "gated-sketch" if config["engine"] == "gated" and config["sketch"] else (
        "pennet-official" if config["engine"] == "pennet" else "deepfill2-pt")
    return {"format": FORMAT, "engine": config["engine"], "layout": layout,
            "state_dict": sd, "steps": int(step)}


def export_weights(checkpoint: Path, out: Path) -> Path:
    """Write the generator of a training checkpoint as our fp16 weights file."""
    state = load_checkpoint(checkpoint)
    save_checkpoint(Path(out), weights_payload(state["G"], state["config"], state["step"]))
    return Path(out)


def interpolate_weights(first: Path, second: Path, alpha: float, out: Path) -> Path:
    """Network interpolation (Wang et al., ESRGAN 2018): ``(1 - alpha) * first + alpha *
    second``, for two generators of one network, e.g. a reconstruction-trained one and its
    adversarial fine-tune; alpha trades fidelity for sharpness. Takes training checkpoints
    or exported weights; writes our fp16 weights file with the layout of ``first``."""
    if not 0.0 <= alpha <= 1.0:
        raise UserError(f"alpha must be between 0 and 1, got {alpha}")
    first_w, second_w = _weights_file(Path(first)), _weights_file(Path(second))
    kinds = [f"{w['engine']}/{w['layout']}" for w in (first_w, second_w)]
    if kinds[0] != kinds[1]:
        raise UserError(f"cannot interpolate {kinds[0]} weights with {kinds[1]} weights")
    a, b = first_w["state_dict"], second_w["state_dict"]
    if a.keys() != b.keys() or any(a[k].shape != b[k].shape for k in a):
        raise UserError(f"{Path(first).name} and {Path(second).name} are not the same network")
    mixed = {k: torch.lerp(v.float(), b[k].float(), alpha) if v.is_floating_point() else v
             for k, v in a.items()}
    steps = int(round((1 - alpha) * first_w["steps"] + alpha * second_w["steps"]))
    save_checkpoint(Path(out), {**first_w, "state_dict": _half(mixed), "steps": steps})
    return Path(out)


def _weights_file(path: Path) -> dict:
    """Our weights file fields for an exported weights file or a training checkpoint."""
    state = load_checkpoint(path)
    if state.get("format") == FORMAT:
        return state
    if "G" not in state or "config" not in state:
        raise UserError(f"{path.name} is neither a training checkpoint nor Inpaint Studio weights")
    return weights_payload(state["G"], state["config"], state["step"])


# ---------------------------------------------------------------- loop


def decayed_lr(lr: float, first: int, step: int, end: int) -> float:
    """Linear decay from ``lr`` at step ``first`` to 0 at step ``end``."""
    return lr * max(0, end - step) / max(1, end - first)


def _setup_distributed():
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        rank = dist.get_rank()
        if torch.cuda.is_available():
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", rank)))
        return rank, dist.get_world_size()
    return 0, 1


def _out_of_time(start: float, minutes: float, world: int, device) -> bool:
    late = time.time() - start > minutes * 60
    if world > 1:  # every process must stop at the same step
        flag = torch.tensor([float(late)], device=device)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        late = bool(flag.item())
    return late


def train(config: TrainConfig, log=print) -> dict:
    from inpaint_studio.engines.device import pick_device

    if not config.adv_weight >= 0:
        raise UserError(f"--adv-weight must be 0 or more, got {config.adv_weight}")
    if not config.hole_weight > 0:
        raise UserError(f"--hole-weight must be more than 0, got {config.hole_weight}")
    if not config.grad_weight >= 0:
        raise UserError(f"--grad-weight must be 0 or more, got {config.grad_weight}")
    if config.engine == "pennet" and config.hole_weight != 1:
        raise UserError("--hole-weight is for the gated engine (PEN-Net's losses weight the hole x6 already)")
    check_hole_range(*config.holes)
    rank, world = _setup_distributed()
    device = pick_device(config.device)
    if world > 1 and device.type == "cuda":
        device = torch.device("cuda", torch.cuda.current_device())
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    train_paths, val_paths = load_split(Path(config.data))
    crops = PhotoCrops([read_rgb(p) for p in train_paths], config.size, tuple(config.holes))
    val = validation_set(val_paths, config.size, config.val_samples, config.sketch)
    reference = telea_baseline(val)

    torch.manual_seed(config.seed)
    G = build_generator(config.engine, config.sketch).to(device)
    D = build_discriminator(config.engine, config.sketch).to(device)
    opt_g = torch.optim.Adam(G.parameters(), config.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), config.lr, betas=(0.5, 0.999))
    step = 0
    if config.resume:
        step = resume_from(Path(config.resume), config, G, D, opt_g, opt_d)
    g_model, d_model = G, D
    if world > 1:
        ids = [device.index] if device.type == "cuda" else None
        g_model = torch.nn.parallel.DistributedDataParallel(G, device_ids=ids)
        d_model = torch.nn.parallel.DistributedDataParallel(D, device_ids=ids)
    use_amp = config.amp and device.type == "cuda"
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    stream = batches(config, crops, [config.seed, rank, step], device)
    history = []
    start = time.time()
    first = step
    last = config.steps
    tty = sys.stderr.isatty()
    while step < last:
        if config.decay:
            for group in opt_g.param_groups + opt_d.param_groups:
                group["lr"] = decayed_lr(config.lr, first, step, config.steps)
        image, hole, sketch = batch_tensors(next(stream), device)
        adversarial = step >= config.adv_from
        with torch.autocast(device.type, dtype=torch.float16, enabled=use_amp):
            g_loss, parts, comp = generator_losses(config.engine, g_model, d_model, image, hole, sketch,
                                                   adversarial, config.adv_weight,
                                                   config.hole_weight, config.grad_weight)
        opt_g.zero_grad(set_to_none=True)
        scaler.scale(g_loss).backward()
        scaler.step(opt_g)
        d_loss = torch.zeros(())
        if adversarial:
            with torch.autocast(device.type, dtype=torch.float16, enabled=use_amp):
                d_loss = discriminator_loss(config.engine, d_model, image, comp, hole, sketch)
            opt_d.zero_grad(set_to_none=True)
            scaler.scale(d_loss).backward()
            scaler.step(opt_d)
        scaler.update()
        step += 1
        if config.minutes and _out_of_time(start, config.minutes, world, device):
            last = step  # finish this step like the last one
        if rank:
            continue
        rate = (time.time() - start) / (step - first)
        losses = " ".join(f"{k} {float(v.detach()):.3f}" for k, v in parts.items())
        if tty or step % 50 == 0:
            line = (f"step {step}/{last} {losses} d {float(d_loss.detach()):.3f} "
                    f"{rate:.2f}s/step eta {rate * (last - step) / 60:.0f} min")
            sys.stderr.write(f"\r{line} " if tty else f"{line}\n")
        if step % config.preview_every == 0 or step == last:
            save_preview(out / f"preview_{step:07d}.png", image, hole, comp.detach())
        if step % config.val_every == 0 or step == last:
            figures = {"step": step, **evaluate(config.engine, G, val, device), **reference}
            history.append(figures)
            with open(out / "val.jsonl", "a") as fh:
                fh.write(json.dumps(figures) + "\n")
            log(f"\nvalidation at step {step}: hole L1 {figures['hole_l1']:.2f}, PSNR {figures['hole_psnr']:.2f} dB "
                f"(Telea on the same samples: {reference['telea_l1']:.2f}, {reference['telea_psnr']:.2f} dB)")
        if step % config.save_every == 0 or step == last:
            save_checkpoint(out / "last.pt", {
                "G": G.state_dict(), "D": D.state_dict(), "opt_g": opt_g.state_dict(),
                "opt_d": opt_d.state_dict(), "step": step, "config": asdict(config)})
            if config.keep:
                save_checkpoint(out / f"gen_{step:07d}.pth",
                                weights_payload(G.state_dict(), asdict(config), step))
    if world > 1:
        dist.barrier()  # the checkpoint is written before any process moves on
        dist.destroy_process_group()
    return {"steps": step, "validation": history, "checkpoint": str(out / "last.pt"), "rank": rank}
