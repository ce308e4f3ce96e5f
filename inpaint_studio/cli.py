"""Headless command line. Never imports Qt (the `edit` command imports the GUI lazily).

One small ``add_<command>(subparsers)`` per command registers its parser and sets
``func``; add a new command by writing one and listing it in ``COMMANDS``. A command
function takes the parsed args and returns an exit code. Errors: a UserError exits with its
``exit_code`` (BadInput: 2, NotReady: 1), ``Failed`` -> its own code (1 for runtime failures).
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from inpaint_studio import interrupts
from inpaint_studio.cli_common import PROG, Failed, ProgressBar, error, image_suffixes, is_image, runtime_step, warn
from inpaint_studio.core.errors import Cancelled, UserError
from inpaint_studio.core.settings import EngineSettings

BLEND_DEFAULTS = EngineSettings()  # the editor's and the CLI's fill defaults

AUTO_DAMAGE = "auto-damage"  # --mask keyword (cli_damage)


# ---- edit ------------------------------------------------------------------------------

def add_edit(sub) -> None:
    p = sub.add_parser("edit", help="open the editor (the default command)",
                       description="Open the editor, optionally with a photo.")
    p.add_argument("photo", nargs="?", help="photo to open")
    p.set_defaults(func=cmd_edit)


def cmd_edit(args) -> int:
    if args.photo and not Path(args.photo).is_file():
        raise UserError(f"no such file: {args.photo}")
    try:
        from inpaint_studio.app import run
    except ImportError as exc:
        raise Failed(f"the editor cannot start: {exc}") from exc
    return int(run(args.photo) or 0)


# ---- engines ---------------------------------------------------------------------------

def add_engines(sub) -> None:
    p = sub.add_parser("engines", help="list fill engines and whether each is ready",
                       description="List fill engines and whether each can run here.")
    p.set_defaults(func=cmd_engines)


def cmd_engines(args) -> int:
    from inpaint_studio.engines import registry

    names = registry.engine_names()
    width = max(len(n) for n in names)
    titles = max(len(registry.get_info(n).title) for n in names)
    for name in names:
        info, state = registry.get_info(name), registry.readiness(name)
        status = "ready" if state.ready else f"not ready: {state.reason}"
        default = " (default)" if name == registry.DEFAULT_ENGINE else ""
        print(f"{name:<{width}}  {info.title:<{titles}}  {status}{default}")
    return 0


# ---- fill ------------------------------------------------------------------------------

def add_fill(sub) -> None:
    from inpaint_studio.engines.device import DEVICE_CHOICES
    from inpaint_studio.engines.registry import DEFAULT_ENGINE
    from inpaint_studio.pipeline.run import HIRES_MODES

    p = sub.add_parser(
        "fill", help="fill the masked part of a photo (or a folder of photos)",
        description="Fill the white part of MASK in IMAGE and write OUT. With a folder as "
                    "IMAGE, --mask is a folder of masks matched by file stem (or one mask "
                    "for all) and -o is an output folder.")
    p.add_argument("image", metavar="IMAGE", help="photo, or a folder of photos")
    p.add_argument("--mask", required=True, help="mask (white = fill), or a folder of masks, or "
                   "auto-damage: detect scratches and dust and fill them (see detect-damage)")
    p.add_argument("--sketch", help="guide-line layer (white = line), or a folder of them")
    p.add_argument("--avoid", help="sampling exclusion (white = never copy from here), or a "
                   "folder of them; honoured by patchmatch, other engines ignore it")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="output file, or output folder for a batch")
    p.add_argument("--engine", help=f"engine name (default {DEFAULT_ENGINE}; telea for "
                   "--mask auto-damage or a thin mask file)")
    p.add_argument("--device", default="auto", choices=DEVICE_CHOICES)
    p.add_argument("--seed", type=int, help="random seed (engines with a seed parameter)")
    p.add_argument("--feather", default=str(BLEND_DEFAULTS.feather), metavar="N",
                   help="blend the fill over N pixels around the hole, or auto (scaled to the "
                        f"photo, 10 px at 4000 px); default {BLEND_DEFAULTS.feather}: only masked "
                        "pixels change")
    p.add_argument("--hires", default="auto", choices=HIRES_MODES,
                   help="coarse-to-fine for large holes (default auto: where a hole's context "
                        "crop is above 5 MP)")
    p.add_argument("--colour-match", dest="colour_match", action="store_true",
                   default=BLEND_DEFAULTS.colour_match,
                   help="pull the fill's overall colour towards the pixels around the hole "
                        "(for engines whose fills come out tinted; PatchMatch joins its fill "
                        "to the border itself)")
    p.add_argument("--no-colour-match", dest="colour_match", action="store_false",
                   help="keep the engine's own colours")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="engine parameter, repeatable (see the engine's parameters)")
    p.add_argument("--overwrite", action="store_true", help="allow replacing existing files")
    p.add_argument("--quality", type=int, metavar="Q", help="JPEG/WebP quality 1-100")
    from inpaint_studio.cli_damage import add_damage_options

    add_damage_options(p)  # --sensitivity, --max-width for --mask auto-damage
    p.set_defaults(func=cmd_fill)


def parse_params(pairs: list[str], info) -> dict:
    """KEY=VALUE strings -> typed engine params, checked against the engine's ParamSpecs."""
    specs = {p.name: p for p in info.params}
    params = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UserError(f"--param needs KEY=VALUE, got '{pair}'")
        spec = specs.get(key)
        if spec is None:
            known = ", ".join(specs) or "none"
            raise UserError(f"engine '{info.name}' has no parameter '{key}' (parameters: {known})")
        params[key] = _param_value(spec, text.strip())
    return params


def _param_value(spec, text: str):
    try:
        if spec.kind == "bool":
            if text.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                raise ValueError
            return text.lower() in ("1", "true", "yes", "on")
        if spec.kind == "choice":
            if text not in [str(c) for c in spec.choices]:
                raise UserError(f"--param {spec.name} must be one of "
                                f"{', '.join(map(str, spec.choices))}, got '{text}'")
            return next(c for c in spec.choices if str(c) == text)
        value = int(text) if spec.kind == "int" else float(text)
        if not math.isfinite(value):
            raise ValueError
    except ValueError:
        kind = {"int": "a whole number", "float": "a number", "bool": "true or false"}[spec.kind]
        raise UserError(f"--param {spec.name} needs {kind}, got '{text}'") from None
    if (spec.minimum is not None and value < spec.minimum) or (
            spec.maximum is not None and value > spec.maximum):
        raise UserError(f"--param {spec.name} must be between {spec.minimum:g} and "
                        f"{spec.maximum:g}, got {text}")
    return value


@dataclass
class Job:
    image: Path
    mask: Optional[Path]
    sketch: Optional[Path]
    output: Path
    avoid: Optional[Path] = None


def _by_stem(folder: Path, what: str) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if is_image(path):
            if path.stem in found:
                raise UserError(f"two {what} files named '{path.stem}' in {folder}")
            found[path.stem] = path
    return found


def _layer_source(arg: Optional[str], what: str):
    """None, a shared file, or a stem -> file dict for a batch."""
    if arg is None:
        return None
    if what == "mask" and arg == AUTO_DAMAGE:
        return Path(arg)
    path = Path(arg)
    if path.is_dir():
        return _by_stem(path, what)
    if not path.is_file():
        raise UserError(_not_found(what, path))
    return path


def _not_found(what: str, path: Path) -> str:
    """"mask not found: x", or that x exists but is no file (a FIFO, a device, a folder)."""
    return f"{what} is not a regular file: {path}" if path.exists() else f"{what} not found: {path}"


def plan_jobs(args) -> list[Job]:
    """Work out (image, mask, sketch, output) for a single fill or a batch."""
    source, output = Path(args.image), Path(args.output)
    if source.is_file():
        mask, sketch = Path(args.mask), None if args.sketch is None else Path(args.sketch)
        avoid = None if args.avoid is None else Path(args.avoid)
        for what, path in (("mask", mask), ("sketch", sketch), ("avoid mask", avoid)):
            if path is not None and not path.is_file() and not (what == "mask" and args.mask == AUTO_DAMAGE):
                raise UserError(_not_found(what, path) + (" (a folder mask needs a folder "
                                "of images)" if path.is_dir() else ""))
        if output.is_dir():
            output = output / source.name
        return [Job(source, mask, sketch, output, avoid)]
    if not source.is_dir():
        raise UserError(_not_found("image", source))
    masks, sketches = _layer_source(args.mask, "mask"), _layer_source(args.sketch, "sketch")
    avoids = _layer_source(args.avoid, "avoid mask")
    if output.exists() and not output.is_dir():
        raise UserError(f"output must be a folder for a batch, but {output} is a file")
    images = [p for p in sorted(source.iterdir()) if is_image(p)]
    if not images:
        raise UserError(f"no images found in {source}")
    jobs = []
    for path in images:
        mask = masks.get(path.stem) if isinstance(masks, dict) else masks
        sketch = sketches.get(path.stem) if isinstance(sketches, dict) else sketches
        avoid = avoids.get(path.stem) if isinstance(avoids, dict) else avoids
        jobs.append(Job(path, mask, sketch, output / path.name, avoid))
    return jobs


def _same_file(a: Path, b: Optional[Path]) -> bool:
    return b is not None and a.resolve() == b.resolve()


def check_output(job: Job, overwrite: bool) -> None:
    """Never replace an input or an existing file unless --overwrite; known format only."""
    if job.output.suffix.lower() not in image_suffixes():
        raise UserError(f"cannot save as '{job.output.suffix or 'no extension'}': {job.output} "
                        "(use .jpg, .png, .tif, .webp or .bmp)")

    if overwrite:
        return
    for what, path in (("image", job.image), ("mask", job.mask), ("sketch", job.sketch),
                       ("avoid mask", job.avoid)):
        if _same_file(job.output, path):
            raise UserError(f"output {job.output} is the input {what} (use --overwrite to replace it)")
    if job.output.exists():
        raise UserError(f"{job.output} already exists (use --overwrite to replace it)")


def fill_one(job: Job, host, settings: dict, args, on_progress) -> Optional[str]:
    """Load, fill and save one job; returns a warning or None. The fill is a ``FillRequest``
    of the job's arrays and ``settings`` (its other fields), run by ``host``
    (``engines.host.EngineHost``); ``args``: where and how to save, damage detection.

    Raises UserError for bad input and Failed for engine or write errors.
    """
    from inpaint_studio import fileio
    from inpaint_studio.core import fillcheck
    from inpaint_studio.pipeline.request import FillRequest

    if job.mask is None:
        raise UserError(f"no mask for {job.image.name} (masks are matched by file stem)")
    check_output(job, args.overwrite)
    picture = fileio.load_image(job.image)
    image = picture.pixels
    size = (picture.width, picture.height)
    if str(job.mask) == AUTO_DAMAGE:
        from inpaint_studio.cli_damage import detect_damage

        hole = detect_damage(image, args)
    else:
        hole = fileio.load_mask(job.mask, size)
    sketch = None if job.sketch is None else fileio.load_mask(job.sketch, size)
    avoid = None if job.avoid is None else fileio.load_mask(job.avoid, size)
    fileio.check_can_save(job.output, *size)  # before the fill, not after it
    notes = [n for n in [picture.warning] if n] + fileio.save_notes(job.output, picture)
    if not hole.any():
        notes.append(f"mask {job.mask.name} is empty: {job.image.name} copied unchanged")
        result_image = image
    else:
        problem = fillcheck.fill_problem(*size, hole)
        if problem:
            raise UserError(f"{job.image.name}: {problem}")
        request = FillRequest(image=image, hole=hole, sketch=sketch, avoid=avoid, **settings)
        with runtime_step():
            result_image = host.fill(request, progress=on_progress).image
        if fillcheck.left_unchanged(image, result_image, hole):
            raise Failed(f"{job.image.name}: engine '{request.engine}' left the masked "
                         "pixels unchanged (try another engine); nothing was saved")
    with runtime_step():
        try:
            fileio.save_image(job.output, result_image, like=picture, quality=args.quality,
                              overwrite=args.overwrite)
        except OSError as exc:
            raise UserError(f"cannot write {job.output}: {exc.strerror or exc}") from exc
    return "\n".join(notes) or None


def check_fill_paths(args) -> None:
    """Refuse empty paths (an unset shell variable would mean the current folder) and a
    batch output that names a file."""
    for what, value in (("IMAGE", args.image), ("--mask", args.mask), ("--sketch", args.sketch),
                        ("--avoid", args.avoid), ("-o", args.output)):
        if value is not None and not value.strip():
            raise UserError(f"{what} is empty (an unset variable?); give a file or folder")
    output = Path(args.output)
    longest = max((len(os.fsencode(part)) for part in output.parts), default=0)
    if longest > 255:
        raise UserError(f"-o {args.output[:40]}...: a name in it is too long ({longest} bytes, 255 at most)")
    if Path(args.image).is_dir() and not output.exists() and output.suffix.lower() in image_suffixes():
        raise UserError(f"IMAGE is a folder, so -o must be a folder, but {args.output} looks like "
                        "a file name (create the folder first to use that name)")


def cmd_fill(args) -> int:
    from inpaint_studio.engines import registry
    from inpaint_studio.engines.host import EngineHost
    from inpaint_studio.pipeline.blend import parse_feather

    check_fill_paths(args)
    if args.mask != AUTO_DAMAGE and (args.sensitivity, args.max_width) != (None, None):
        raise UserError("--sensitivity and --max-width only apply to --mask auto-damage")
    name, hires = args.engine, args.hires
    if name is None:  # not chosen: Telea for thin masks
        from inpaint_studio.cli_damage import auto_engine

        name, why = auto_engine(args)
        if why and hires == "auto":
            hires = "off"
        if why:
            print(f"engine: {registry.get_info(name).title} ({why}; --engine to choose)",
                  file=sys.stderr)
    info = registry.get_info(name)
    if args.avoid is not None and not info.uses_avoid:
        warn(f"engine '{info.name}' ignores --avoid (only patchmatch never samples there)")
    params = parse_params(args.param, info)
    if args.seed is not None:
        if "seed" not in info.defaults():
            raise UserError(f"engine '{info.name}' has no seed (it is deterministic)")
        params.update(parse_params([f"seed={args.seed}"], info))  # same range as --param seed
    # what every photo's FillRequest shares
    settings = {"engine": name, "device": args.device, "params": params, "hires": hires,
                "feather": parse_feather(args.feather, "--feather"), "colour_match": args.colour_match}
    if args.quality is not None and not 1 <= args.quality <= 100:
        raise UserError("--quality must be between 1 and 100")
    jobs = plan_jobs(args)
    batch = Path(args.image).is_dir()
    if batch:
        try:
            Path(args.output).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise Failed(f"cannot create output folder {args.output}: {exc.strerror or exc}") from exc
    else:  # check before the (maybe slow) engine load
        check_output(jobs[0], args.overwrite)
        folder = jobs[0].output.absolute().parent
        if not folder.is_dir():
            raise Failed(f"cannot save {jobs[0].output}: the folder {folder} does not exist")
    host = EngineHost()
    with runtime_step():  # load (and make the refiner) before the first photo
        engine = host.engine(name, args.device)
        if hires != "off":
            host.refiner(engine, args.device)
    bar = ProgressBar(len(jobs))
    failures = []
    for i, job in enumerate(jobs):
        label = job.image.name

        def on_progress(fraction: float, message: str = "", i=i, label=label) -> None:
            bar.update(i + fraction, label)

        on_progress(0.0)
        try:
            note = fill_one(job, host, settings, args, on_progress)
        except (Cancelled, KeyboardInterrupt):
            bar.finish()
            raise
        except Exception as exc:  # batch: report this image and go on
            bar.finish()
            if not batch:
                raise
            if isinstance(exc, (UserError, Failed)):
                code, message = getattr(exc, "code", 2), str(exc)
            else:
                code, message = 1, f"{type(exc).__name__}: {exc}"
                if args.debug:
                    traceback.print_exc()
            error(f"{job.image.name}: {message}")
            failures.append(code)
            continue
        if note:
            bar.finish()
            for line in note.splitlines():
                warn(line)
    bar.update(len(jobs), "done")
    bar.finish()
    if failures:
        error(f"{len(failures)} of {len(jobs)} images failed")
        return max(failures)
    return 0


# ---- train -----------------------------------------------------------------------------

def add_train(sub) -> None:
    p = sub.add_parser("train", help="train or fine-tune PEN-Net / gated-conv weights on your photos",
                       description="Train or fine-tune a learned engine on a folder of photos. "
                                   "Under torchrun it trains on several GPUs.")
    p.add_argument("--engine", required=True, choices=["pennet", "gated"])
    p.add_argument("--sketch", action="store_true", help="gated only: add the sketch-guide channel")
    p.add_argument("--data", required=True, help="folder of photos (a manifest.json split is honoured)")
    p.add_argument("--out", required=True, help="folder for checkpoints, previews and val.jsonl")
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--steps", type=int, default=10000)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--adv-from", type=int, default=0, metavar="STEP",
                   help="start the adversarial loss at this step (default 0, as in the papers)")
    p.add_argument("--adv-weight", type=float, default=1.0, metavar="W",
                   help="scale the papers' adversarial weight by W (default 1; e.g. 0.1 for a "
                        "gentle sharpening fine-tune after a reconstruction-only phase)")
    p.add_argument("--hole-weight", type=float, default=1.0, metavar="W",
                   help="gated only: weight of hole pixels against the rest in the L1 losses "
                        "(default 1, as in the paper; e.g. 6, as PEN-Net weights its hole loss)")
    p.add_argument("--grad-weight", type=float, default=0.0, metavar="W",
                   help="add W x an L1 loss on pixel differences (edges) inside the hole (default 0, "
                        "not in the papers; it rewards sharp edges, and with --sketch, edges on the lines)")
    p.add_argument("--decay", action="store_true", help="lower the learning rate linearly from --lr "
                   "at the first step to 0 at --steps (to settle a fine-tune)")
    p.add_argument("--holes", type=_ratio_range, metavar="LOW-HIGH",
                   help="range of hole sizes as fractions of the crop (default 0.05-0.60; "
                        "e.g. 0.05-0.35 to fine-tune for the object sizes you usually remove)")
    p.add_argument("--minutes", type=float, default=0, help="stop with a checkpoint after this many minutes")
    p.add_argument("--workers", type=int, default=0,
                   help="processes making training samples (default 0: the training process itself)")
    p.add_argument("--device", default="auto")
    p.add_argument("--resume", default="", help="checkpoint to continue from (e.g. OUT/last.pt), or "
                   "exported weights to fine-tune (the discriminator and optimiser start afresh)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--every", type=int, default=200, help="steps between previews, validation and checkpoints")
    p.add_argument("--export", metavar="FILE", help="when done, write the fp16 generator weights here")
    p.add_argument("--keep", action="store_true", help="also keep the fp16 generator of every "
                   "checkpoint as OUT/gen_STEP.pth, to pick the best one afterwards (e.g. during "
                   "an adversarial phase)")
    p.add_argument("--slim", metavar="FILE", help="when done, also write a small checkpoint here (generator "
                   "and discriminator in fp16, no optimiser state) to continue on another machine")
    p.set_defaults(func=cmd_train)


def _ratio_range(text: str) -> tuple[float, float]:
    from inpaint_studio.training.holes import check_hole_range

    try:
        low, high = (float(v) for v in text.split("-"))
        check_hole_range(low, high)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LOW-HIGH, e.g. 0.05-0.35, got '{text}'") from None
    except UserError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return low, high


def cmd_train(args) -> int:
    from inpaint_studio.training.train import TrainConfig, export_weights, slim_checkpoint, train

    config = TrainConfig(engine=args.engine, sketch=args.sketch, data=args.data, out=args.out,
                         size=args.size, steps=args.steps, batch=args.batch, lr=args.lr,
                         device=args.device, resume=args.resume, seed=args.seed, adv_from=args.adv_from,
                         adv_weight=args.adv_weight, hole_weight=args.hole_weight,
                         grad_weight=args.grad_weight, keep=args.keep, decay=args.decay, minutes=args.minutes,
                         workers=args.workers, holes=args.holes or TrainConfig.holes,
                         preview_every=args.every, val_every=args.every, save_every=args.every)
    result = train(config)
    if result["rank"]:
        return 0  # under torchrun, the first process reports and exports
    print(f"\ntrained to step {result['steps']}; checkpoint {result['checkpoint']}")
    if args.export:
        print(f"weights written to {export_weights(Path(result['checkpoint']), Path(args.export))}")
    if args.slim:
        print(f"slim checkpoint written to {slim_checkpoint(Path(result['checkpoint']), Path(args.slim))}")
    return 0


# ---- weights ---------------------------------------------------------------------------

def add_weights(sub) -> None:
    p = sub.add_parser("weights", help="list, import, download or verify weight files",
                       description="Manage the weight files of the learned engines (PEN-Net, gated conv).")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", help="every weight file: installed or not, licence, source")
    imp = actions.add_parser("import", help="check, convert and install a checkpoint you have")
    imp.add_argument("file", help="checkpoint file, e.g. states_tf_places2.pth or gen_00090.pth")
    imp.add_argument("--engine", required=True, help="engine it is for: pennet or gated")
    imp.add_argument("--name", help="manifest entry to install it as (default: chosen from its layout)")
    down = actions.add_parser("download", help="download a listed file (resumable, checked)")
    down.add_argument("name", help="manifest entry, see `weights list`")
    down.add_argument("--url", help="download from this address instead of the listed one")
    actions.add_parser("verify", help="re-hash every installed weight file")
    p.set_defaults(func=cmd_weights)


def cmd_weights(args) -> int:
    from inpaint_studio.engines import registry, weights

    if args.action == "list":
        for entry in weights.entries():
            reason = weights.missing_reason(entry)
            status = "installed" if not reason else "missing" if entry.bundled else "not installed"
            print(f"{entry.name} [{entry.engine}] {status}: {entry.title}")
            print(f"    {weights.licence_line(entry)}")
        return 0
    if args.action == "import":
        name = weights.import_checkpoint(args.file, args.engine, args.name,
                                         convert=registry.converter(args.engine))
        print(f"installed {args.file} as '{name}' ({weights.weight_path(name)})")
        print(weights.licence_line(name))
        return 0
    if args.action == "download":
        entry = weights.get_entry(args.name)
        print(weights.licence_line(entry))
        bar = ProgressBar(1)
        try:
            with runtime_step():
                weights.download(entry.name, progress=lambda fraction, message: bar.update(fraction, message),
                                 url=args.url, convert=registry.converter(entry.engine))
        finally:
            bar.finish()
        if not entry.sha256:
            print("note: upstream publishes no sha256 for this file; it was verified by structure "
                  "(every key and shape checked against the network)")
        print(f"installed '{entry.name}' ({weights.weight_path(entry)})")
        return 0
    bad = 0
    for entry in weights.entries():
        if weights.missing_reason(entry):
            continue
        with runtime_step():
            problem = weights.verify(entry)
        bad += bool(problem)
        print(f"{entry.name}: {problem or 'ok'}")
    if bad:
        error(f"{bad} installed weight file(s) failed verification: import or download them again")
    return 1 if bad else 0


# ---- main ------------------------------------------------------------------------------

def add_detect_damage(sub) -> None:
    from inpaint_studio.cli_damage import add_detect_damage as add

    add(sub)


COMMANDS = [add_edit, add_fill, add_detect_damage, add_engines, add_train, add_weights]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Inpaint Studio: fill unwanted parts of photos.",
        epilog="With no command, or just a photo, the editor opens.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in COMMANDS:
        add(sub)
    return parser


def _command_names(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def main(argv: Optional[list[str]] = None) -> int:
    """Run a command; as the process's entry point (no ``argv``) a late signal is ignored."""
    if argv is not None:
        return _main(list(argv))
    try:
        return _main(sys.argv[1:])
    finally:
        interrupts.quiet_exit()


def _main(argv: list[str]) -> int:
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    parser = build_parser()
    if not argv or (len(argv) == 1 and argv[0] not in _command_names(parser) and (
            Path(argv[0]).is_file() or Path(argv[0]).suffix.lower() in image_suffixes())):
        argv = ["edit"] + argv
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # usage errors and --help
        return exc.code if isinstance(exc.code, int) else 2
    args.debug = debug
    try:
        with interrupts.stop_signals_raise():
            return args.func(args)
    except Failed as exc:
        error(str(exc))
        return exc.code
    except UserError as exc:
        error(str(exc))
        return exc.exit_code
    except Cancelled:
        print(f"\n{PROG}: cancelled", file=sys.stderr)
        return 130
    except KeyboardInterrupt as exc:  # Ctrl+C, SIGTERM, SIGHUP
        print(f"\n{PROG}: cancelled", file=sys.stderr)
        return interrupts.exit_code(exc)
    except Exception as exc:  # noqa: BLE001 - last resort: one line, traceback on request
        if debug:
            traceback.print_exc()
        error(f"{type(exc).__name__}: {exc}" + ("" if debug else " (run with --debug for the traceback)"))
        return 1
