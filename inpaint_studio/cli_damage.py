"""Old-photo commands for the CLI: ``detect-damage`` and ``fill --mask auto-damage``.

Kept out of cli.py so that file only registers them. Never imports Qt.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from inpaint_studio.core.errors import UserError

AUTO_DAMAGE = "auto-damage"  # the --mask keyword: detect scratches and dust, then fill
THIN_ENGINE = "telea"  # what fills thin masks best (issue 16: Telea beats PatchMatch there)


def add_detect_damage(sub) -> None:
    from inpaint_studio.pipeline.damage import DEFAULT_MAX_WIDTH, DEFAULT_SENSITIVITY

    p = sub.add_parser(
        "detect-damage", help="find scratches and dust on a scanned old photo; write a mask",
        description="Write a mask (PNG, white = damage) of the thin scratches and dust specks "
                    "of PHOTO, ready for `fill --mask`. With a folder as PHOTO, -o is a folder "
                    "and each mask is named after its photo (STEM.png).")
    p.add_argument("image", metavar="PHOTO", help="photo, or a folder of photos")
    p.add_argument("-o", "--output", required=True, metavar="MASK",
                   help="mask file (.png), or output folder for a batch")
    add_damage_options(p, DEFAULT_SENSITIVITY, DEFAULT_MAX_WIDTH)
    p.add_argument("--overwrite", action="store_true", help="allow replacing existing files")
    p.set_defaults(func=cmd_detect_damage)


def cmd_detect_damage(args) -> int:
    from inpaint_studio import cli_common, fileio

    damage_options(args)
    source, output = Path(args.image), Path(args.output)
    batch = source.is_dir()
    if batch:
        photos = [p for p in sorted(source.iterdir()) if cli_common.is_image(p)]
        if not photos:
            raise UserError(f"no images found in {source}")
        if output.exists() and not output.is_dir():
            raise UserError(f"output must be a folder for a batch, but {output} is a file")
        try:
            output.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise cli_common.Failed(f"cannot create output folder {output}: {exc.strerror or exc}") from exc
    elif source.is_file():
        photos = [source]
    else:
        raise UserError(f"image not found: {args.image}")
    jobs = [(photo, mask_output(photo, output, batch)) for photo in photos]
    for photo, mask in jobs:
        if mask.exists() and not args.overwrite:
            raise UserError(f"{mask} already exists (use --overwrite to replace it)")
        if mask.resolve() == photo.resolve():
            raise UserError(f"output {mask} is the input photo")
    bar = cli_common.ProgressBar(len(jobs))
    failures = []
    for i, (photo, mask) in enumerate(jobs):
        bar.update(i, photo.name)
        try:
            hole = detect_damage(fileio.load_image(photo).pixels, args)
            with cli_common.runtime_step():
                fileio.save_mask(mask, hole)
        except (UserError, cli_common.Failed) as exc:
            bar.finish()
            if not batch:
                raise
            cli_common.error(f"{photo.name}: {exc}")
            failures.append(getattr(exc, "code", 2))
            continue
        bar.finish()
        print(f"{mask}: {100 * hole.mean():.2f} % of {photo.name} flagged")
    if failures:
        cli_common.error(f"{len(failures)} of {len(jobs)} images failed")
        return max(failures)
    return 0


def add_damage_options(p, sensitivity=None, max_width=None) -> None:
    p.add_argument("--sensitivity", type=float, default=sensitivity, metavar="S",
                   help="0 to 1: higher finds fainter damage but flags more real detail (default 0.5)")
    p.add_argument("--max-width", type=int, default=max_width, metavar="PX",
                   help="widest scratch or speck to find, in pixels (default 6)")


def damage_options(args) -> tuple[float, int]:
    """(sensitivity, max width) from args, checked; defaults where not given."""
    from inpaint_studio.pipeline.damage import DEFAULT_MAX_WIDTH, DEFAULT_SENSITIVITY, MAX_WIDTH_RANGE

    s = DEFAULT_SENSITIVITY if args.sensitivity is None else args.sensitivity
    w = DEFAULT_MAX_WIDTH if args.max_width is None else args.max_width
    if not 0.0 <= s <= 1.0:
        raise UserError(f"--sensitivity must be between 0 and 1, got {s:g}")
    lo, hi = MAX_WIDTH_RANGE
    if not lo <= w <= hi:
        raise UserError(f"--max-width must be between {lo} and {hi} pixels, got {w}")
    return s, w


def detect_damage(image: np.ndarray, args) -> np.ndarray:
    from inpaint_studio.pipeline.damage import detect_damage as detect

    sensitivity, max_width = damage_options(args)
    return detect(image, sensitivity, max_width)


def mask_output(image: Path, output: Path, batch: bool) -> Path:
    """Where the mask of ``image`` goes: a folder gets STEM.png; files must be PNG."""
    if batch or output.is_dir():
        return output / f"{image.stem}.png"
    if output.suffix.lower() != ".png":
        raise UserError(f"masks are saved as PNG: {output} (use a .png name)")
    return output


def auto_engine(args) -> tuple[str, str]:
    """(engine, why) when the user gave no --engine: Telea for auto-damage or a thin mask
    file, else the default engine. Thin masks also turn ``--hires auto`` off (a
    coarse-to-fine fill would lose scratches one pixel wide)."""
    from inpaint_studio.engines.registry import DEFAULT_ENGINE

    if args.mask == AUTO_DAMAGE:
        return THIN_ENGINE, "auto-damage mask"
    mask, image = Path(args.mask), Path(args.image)
    if mask.is_file() and image.is_file():
        from inpaint_studio import fileio
        from inpaint_studio.pipeline.damage import is_thin

        picture = fileio.load_image(mask)
        if is_thin(fileio.load_mask(mask, (picture.width, picture.height))):
            return THIN_ENGINE, "thin mask"
    return DEFAULT_ENGINE, ""
