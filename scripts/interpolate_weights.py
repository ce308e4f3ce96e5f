#!/usr/bin/env python3
"""Blend two generators of one network (network interpolation, Wang et al., ESRGAN 2018).

    python scripts/interpolate_weights.py FIRST SECOND --alpha 0.3 --out mixed.pth

Writes ``(1 - alpha) * FIRST + alpha * SECOND`` as our fp16 weights file. FIRST and SECOND
are training checkpoints (last.pt) or exported weights (gen_STEP.pth) of the same engine
and layout: typically a reconstruction-trained generator and its adversarial fine-tune,
where a small alpha buys sharpness for little hole L1. Evaluate the result with
scripts/evaluate_weights.py --weights ENGINE=mixed.pth.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inpaint_studio.core.errors import UserError


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("first")
    parser.add_argument("second")
    parser.add_argument("--alpha", type=float, required=True, help="weight of SECOND, 0..1")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    from inpaint_studio.training.train import interpolate_weights

    out = interpolate_weights(Path(args.first), Path(args.second), args.alpha, Path(args.out))
    print(f"wrote {out}")
    return out


if __name__ == "__main__":
    try:
        main()
    except UserError as exc:
        sys.exit(f"error: {exc}")
