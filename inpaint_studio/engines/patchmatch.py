"""PatchMatch image completion: Wexler et al. 2007 EM with a PatchMatch NNF (Barnes et al. 2009).

Coarse to fine over an image pyramid. At each level every target pixel whose p x p patch
overlaps the hole holds a nearest-neighbour offset to a source patch that lies entirely in
known pixels (and outside ``avoid``). Each EM iteration improves the field by vectorised
PatchMatch (jump-flood propagation + random search with a shrinking radius), then every hole
pixel takes the weighted vote (weights exp(-d / 2 sigma^2), sigma^2 = 75th percentile of the
distances) of the source pixels its overlapping patches point at.

The pyramid goes down until the hole is at most COARSE_SPAN patches thick (a thin scratch
or stroke, however long, is filled at full resolution). The coarsest level starts with an
onion-peel fill: ring by ring from the border inwards, each pixel copies the centre of the
source patch that best matches what is known around it, so the start continues the
surrounding structure (a smooth start attracts smooth sources); there, and in its searches,
every pixel also tries the level's dominant offsets (He & Sun 2012: the offsets at which
known patches most often find their most similar other patch, the periods of regular
structure such as planks or bricks) as sources. Finer levels start from
the coarser field with offsets doubled. The finest level runs half the iterations with a
nearby-only search (a large hole's, one from a mean-vote start: that level is most of the
time), and its last vote copies each pixel from its best-matching patch, so
the fill keeps the source's texture instead of blurring it; the copy is then joined to the
hole's border in the gradient domain: along the outline, the known pixel minus what the
copied patch continues to there, spread over the hole as a membrane and added.

Patch distances are squared distances between compact per-pixel descriptors: the patch
projected on the top principal axes of the level's known patches (one conv2d). A guide
channel can be appended: edges of the known image (Canny, a thin line's two edges closed
into one, thinned to centre lines) and the sketch's centre lines inside the hole, so that
patches under a sketch line match source patches along an edge or line.

All work is in torch on ``pick_device(self.device)`` (CUDA when present, CPU otherwise).
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Any, Mapping, Optional

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from inpaint_studio.core import raster
from inpaint_studio.core.errors import UserError
from inpaint_studio.core.types import CancelToken, ProgressFn, check_cancel
from inpaint_studio.engines.base import Engine, check_inputs
from inpaint_studio.engines.device import pick_device
from inpaint_studio.engines.registry import get_info

DESC_DIMS = 12  # PCA dimensions of the colour part of the patch descriptor
MIN_SIDE = 32  # never shrink a pyramid level below this many pixels
COARSE_SPAN = 4  # coarsest level: the hole is at most this many patch widths thick
VOTE_STEP = 2  # vote with every other patch centre in each direction
CHUNK = 1 << 20  # floats per temporary buffer in batched gathers (4 MB: near the cache)
EDGE_SCALE = 0.6  # guide-channel strength at sketch_weight 1
NEAR_JUMPS = (4, 1)  # refine from a given NNF: propagation distances
NEAR_RADIUS = 2  # ... and the largest random-search radius (bench_hires: as good as (4, 2, 1), 4)
START_STEP = 3  # ... its mean-vote start takes every third patch centre (9 patches; as good as 16)
BASIS_SAMPLES = 4096  # known patches sampled for the PCA basis
SEAM_LIMIT = 1.0  # largest seam correction (0..1 colour scale)
MEMBRANE_ITERS = 8  # Jacobi sweeps per level of the seam membrane (coarse to fine)
MEMBRANE_TOP = 4  # ... at full size, after the coarser levels (bench_quality unchanged at 4)
ONION_GUIDE = 10.0  # ... and in the coarsest level's onion-peel start
ONION_RANDOM = 8  # random candidates per onion-peel pixel
ONION_ROUNDS = 2  # ... and rounds of random search around the best
SINGLE_ITERS = 1.0  # a thin hole's one level: this many times the iterations
DOMINANT = 4  # coarsest level: the most common offsets (and negatives) tried as sources
DOMINANT_SHARE = 0.03  # ... each found for at least this share of the sampled patches
DOMINANT_SOURCES = 8192  # ... on a copy of the level shrunk to about this many sources
LARGE_HOLE = 200_000  # hole pixels above which the finest level runs one iteration
SMALL_CANVAS = 1_000_000  # pixels below which a fill or refine runs on one CPU thread


def _odd_patch(size: Any) -> int:
    size = int(size)
    if size < 3:
        raise UserError(f"patch size must be at least 3, got {size}")
    return size if size % 2 else size + 1


class _Level:
    """One pyramid level on a padded canvas, with its NNF and current fill."""

    def __init__(self, img, hole, avoid, guide, patch, gen):
        # img (H, W, 3) float 0..1 tensor, hole/avoid (H, W) bool numpy, guide (H, W) tensor or None.
        self.h, self.w = hole.shape
        self.p, self.r = patch, patch // 2
        self.pad = pad = 2 * self.r
        self.gen = gen
        dev = img.device
        self.hp, self.wp = self.h + 2 * pad, self.w + 2 * pad
        chans = img if guide is None else torch.cat([img, guide[..., None]], 2)
        self.c = chans.shape[2]
        self.rows, self.cols = _mirror(self.h, pad, dev), _mirror(self.w, pad, dev)
        self.pix = chans.index_select(0, self.rows).index_select(1, self.cols).view(-1, self.c)  # (Hp*Wp, C)
        hole_c = np.pad(hole, pad)
        self.hole = torch.from_numpy(hole_c).to(dev)
        self.touches_border = bool(hole[0].any() or hole[-1].any() or hole[:, 0].any() or hole[:, -1].any())
        kernel = np.ones((patch, patch), np.uint8)
        known = np.pad(~(hole | avoid), pad).astype(np.uint8)  # outside the photo counts as bad
        self.known = torch.from_numpy(known > 0).to(dev).flatten()  # seam anchors: not avoid
        self.valid = torch.from_numpy(cv2.erode(known, kernel, borderValue=0) > 0).to(dev)
        if not self.valid.any():
            raise UserError("not enough known pixels around the hole to fill it (make the hole smaller)")
        self.snap = self._snap_map(dev)
        q = np.flatnonzero(hole_c)
        self.q = torch.from_numpy(q).to(dev)  # hole pixels (flat canvas index)
        cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
        outline = cv2.dilate(known, cross).ravel()[q] > 0  # hole pixels beside a known one
        self.outline = torch.from_numpy(np.flatnonzero(outline)).to(dev)  # (their places in q)
        band = cv2.dilate(hole_c.astype(np.uint8), kernel) > 0
        self.tgt = torch.from_numpy(np.flatnonzero(band)).to(dev)  # targets: patches overlapping the hole
        ys, xs = self.tgt // self.wp, self.tgt % self.wp
        self.ty, self.tx = ys, xs
        self.box = (int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1)
        self.off = torch.zeros_like(self.tgt)  # NNF: source = tgt + off (flat)
        self.off_map = torch.zeros(self.hp * self.wp, dtype=torch.long, device=dev)
        self.w_map = torch.zeros(self.hp * self.wp, device=dev)
        self.weight = None
        self.desc = None
        self.dominant = None  # flat offsets tried as sources by every target (or None)

    # -- set-up ------------------------------------------------------------------------
    def _snap_map(self, dev):
        """Flat index of the nearest valid source centre, for every canvas pixel."""
        valid = self.valid.cpu().numpy()
        _, labels = cv2.distanceTransformWithLabels((~valid).astype(np.uint8), cv2.DIST_L2, 3,
                                                    labelType=cv2.DIST_LABEL_PIXEL)
        lut = np.zeros(int(labels.max()) + 1, np.int64)
        lut[labels[valid]] = np.flatnonzero(valid)
        return torch.from_numpy(lut[labels.ravel()]).to(dev)

    def make_basis(self, guide_weight):
        """conv2d weights (D, C, p, p): PCA axes of known patches (+ guide block means)."""
        p, c = self.p, self.c
        ok = torch.nonzero(self.valid.flatten()).flatten()
        if ok.numel() > BASIS_SAMPLES:  # a sample (with repeats: far cheaper than randperm)
            ok = ok[torch.randint(ok.numel(), (BASIS_SAMPLES,), generator=self.gen, device=ok.device)]
        dy, dx = torch.meshgrid(torch.arange(p, device=ok.device) - self.r,
                                torch.arange(p, device=ok.device) - self.r, indexing="ij")
        grid = (dy * self.wp + dx).flatten()
        patches = _take(self.pix, (ok[:, None] + grid[None, :]).flatten())
        patches = patches.view(len(ok), p * p, c)[..., :3]  # (n, p*p, 3)
        x = patches.permute(0, 2, 1).reshape(len(ok), -1).cpu()  # small: eigh on the CPU
        x = x - x.mean(0)
        cov = x.T @ x / max(1, len(ok) - 1)
        _, vecs = torch.linalg.eigh(cov)
        dims = min(DESC_DIMS, vecs.shape[1])
        rgb = vecs[:, -dims:].T.float().reshape(dims, 3, p, p).to(self.pix.device)
        weight = F.pad(rgb, (0, 0, 0, 0, 0, c - 3))
        if c == 4:  # guide channel: mean over each cell of a 3x3 grid of the patch
            cells = np.array_split(np.arange(p), 3)
            g = torch.zeros(9, c, p, p, device=rgb.device)
            for i, ri in enumerate(cells):
                for j, rj in enumerate(cells):
                    scale = guide_weight * EDGE_SCALE / math.sqrt(len(ri) * len(rj))
                    g[i * 3 + j, 3, ri[0]:ri[-1] + 1, rj[0]:rj[-1] + 1] = scale
            weight = torch.cat([weight, g])
        self.weight = weight.contiguous(memory_format=torch.channels_last)

    def update_desc(self, full=False):
        """Recompute descriptors (all pixels, or only the target band's box)."""
        # channels-last in and out: the (pixels, D) descriptor table is a free view
        img = self.pix.view(self.hp, self.wp, self.c).permute(2, 0, 1)[None]
        if full or self.desc is None:
            img = img.contiguous(memory_format=torch.channels_last)
            out = F.conv2d(img, self.weight, padding=self.r)[0]
            self.desc = out.permute(1, 2, 0).reshape(-1, out.shape[0])
            self.ones = torch.ones(out.shape[0], device=out.device)
            return
        y0, y1, x0, x1 = self.box
        r = self.r
        crop = img[:, :, y0 - r:y1 + r, x0 - r:x1 + r].contiguous(memory_format=torch.channels_last)
        out = F.conv2d(crop, self.weight)[0]
        self.desc.view(self.hp, self.wp, -1)[y0:y1, x0:x1] = out.permute(1, 2, 0)

    # -- NNF ---------------------------------------------------------------------------
    def random_init(self):
        n = self.hp * self.wp
        s = _take(self.snap, torch.randint(0, n, self.tgt.shape, generator=self.gen, device=self.tgt.device))
        self.off = s - self.tgt

    def init_from(self, coarse: "_Level"):
        """Upsample a coarser level's NNF: offsets x2 (snapped to valid sources here)."""
        cy = ((self.ty - self.pad) // 2).clamp(0, coarse.h - 1) + coarse.pad
        cx = ((self.tx - self.pad) // 2).clamp(0, coarse.w - 1) + coarse.pad
        ct = cy * coarse.wp + cx
        cs = ct + _take(coarse.off_map, ct)
        oy, ox = cs // coarse.wp - cy, cs % coarse.wp - cx
        sy = (self.ty + 2 * oy).clamp(0, self.hp - 1)
        sx = (self.tx + 2 * ox).clamp(0, self.wp - 1)
        self.off = _take(self.snap, sy * self.wp + sx) - self.tgt
        _put(self.off_map, self.tgt, self.off)

    def init_sources(self, nnf):
        """Start from ``nnf`` (H, W, 2) int: each target's source (y, x) in image
        coordinates, -1 where unknown (then its own position); snapped to valid sources."""
        iy = (self.ty - self.pad).clamp(0, self.h - 1).cpu().numpy()
        ix = (self.tx - self.pad).clamp(0, self.w - 1).cpu().numpy()
        src = torch.from_numpy(nnf[iy, ix].astype(np.int64)).to(self.tgt.device)  # targets only
        known = src[:, 0] >= 0
        sy = torch.where(known, src[:, 0] + self.pad, self.ty).clamp(0, self.hp - 1)
        sx = torch.where(known, src[:, 1] + self.pad, self.tx).clamp(0, self.wp - 1)
        self.off = _take(self.snap, sy * self.wp + sx) - self.tgt
        _put(self.off_map, self.tgt, self.off)

    def sources(self):
        """The NNF as (H, W, 2) int32 source (y, x) in image coordinates, -1 off the targets."""
        out = torch.full((self.h, self.w, 2), -1, dtype=torch.int32, device=self.tgt.device)
        y, x = self.ty - self.pad, self.tx - self.pad
        inside = (y >= 0) & (y < self.h) & (x >= 0) & (x < self.w)
        s = (self.tgt + self.off)[inside]
        out[y[inside], x[inside]] = torch.stack([s // self.wp - self.pad, s % self.wp - self.pad], 1).int()
        return out.cpu().numpy()

    def _dist(self, dt, s):
        """Squared descriptor distance of targets ``dt`` (N, D) to sources ``s`` (K, N)."""
        k, n = s.shape
        out = torch.empty(k, n, device=s.device)
        step = max(1, CHUNK // (k * dt.shape[1]))
        for a in range(0, n, step):
            b = min(n, a + step)
            ds = _take(self.desc, s[:, a:b])
            ds.sub_(dt[a:b])
            out[:, a:b] = torch.matmul(ds.mul_(ds), self.ones)  # faster than sum(2)
        return out

    def _try(self, dt, cand, dist):
        """Keep the best of the candidate sources ``cand`` (K, N) where it beats ``dist``."""
        s = _take(self.snap, cand.clamp_(0, self.hp * self.wp - 1))
        d, pick = self._dist(dt, s).min(0)
        better = d < dist
        self.off = torch.where(better, s.gather(0, pick[None])[0] - self.tgt, self.off)
        return torch.where(better, d, dist)

    def search(self, rounds, jumps, radii, anchor=None, closeness=0.0):
        """PatchMatch rounds; returns the distance of every target to its source.

        With ``anchor`` (target descriptors of a reference image), targets are matched by
        ``(1 - closeness) * current + closeness * anchor``.
        """
        dt = _take(self.desc, self.tgt)
        if anchor is not None and closeness > 0:
            dt = torch.lerp(dt, anchor, closeness)
        dist = self._dist(dt, (self.tgt + self.off)[None])[0]
        n_pix, wp = self.hp * self.wp, self.wp
        for _ in range(rounds):
            for k in jumps:  # propagation: take the offsets of neighbours k pixels away
                _put(self.off_map, self.tgt, self.off)
                steps = torch.tensor([k, -k, k * wp, -k * wp], device=self.tgt.device)
                nb = (self.tgt[None] + steps[:, None]).clamp_(0, n_pix - 1)
                dist = self._try(dt, self.tgt[None] + _take(self.off_map, nb), dist)
            if self.dominant is not None and self.dominant.numel():
                dist = self._try(dt, self.tgt[None] + self.dominant[:, None], dist)
            if radii:  # random search around the current source, radius halving
                s = self.tgt + self.off
                rad = torch.tensor(radii, device=s.device)[:, None]
                shape = (len(radii), s.numel())
                ry = (torch.rand(shape, generator=self.gen, device=s.device) * (2 * rad + 1)).long() - rad
                rx = (torch.rand(shape, generator=self.gen, device=s.device) * (2 * rad + 1)).long() - rad
                cy = (s // wp + ry).clamp_(0, self.hp - 1)
                cx = (s % wp + rx).clamp_(0, wp - 1)
                dist = self._try(dt, cy * wp + cx, dist)
        _put(self.off_map, self.tgt, self.off)
        return dist

    def radii(self, start=None):
        rad = start or max(self.hp, self.wp)
        out = []
        while rad >= 1:
            out.append(int(rad))
            rad //= 2
        return out

    # -- voting ------------------------------------------------------------------------
    def set_weights(self, dist):
        k = max(1, int(0.75 * dist.numel()))
        floor = 3e-4 * self.p * self.p  # ~1 % rms colour difference
        sigma2 = dist.kthvalue(k).values.clamp_min(floor)
        w = torch.exp(-dist / (2 * sigma2)) + 1e-6  # never all zero: falls back to a mean
        _put(self.w_map, self.tgt, w)

    def vote(self, best=False, uniform=False, step=VOTE_STEP):
        """Each hole pixel takes the weighted mean (or best-weight) vote of its patches
        (those centred ``step`` pixels apart); ``uniform``: every patch weighs the same
        (the best is then the first)."""
        q, wp, r = self.q, self.wp, self.r
        # every other patch centre is enough (a quarter of the gathers) once the field is coherent
        span = torch.arange(-r, r + 1, step, device=q.device)
        dy, dx = torch.meshgrid(span, span, indexing="ij")
        deltas = (dy * wp + dx).flatten()[:, None]  # (p*p, 1)
        out = torch.empty(q.numel(), 3, device=q.device)
        copy_off = torch.empty_like(q) if best else None
        rows = max(1, CHUNK // (deltas.numel() * 4))
        for a in range(0, q.numel(), rows):
            qc = q[a:a + rows]
            t = qc[None] - deltas  # (p*p, m): every patch centre covering each pixel
            w = None if uniform else _take(self.w_map, t)
            if best:  # copy from the best-matching patch: real texture, no blur
                # (max(0) is far faster than argmax(0))
                tb = t[0] if w is None else t.gather(0, w.max(0).indices[None])[0]
                copy_off[a:a + rows] = _take(self.off_map, tb)
                out[a:a + rows] = _take(self.pix, qc + copy_off[a:a + rows])[:, :3]
            else:
                val = _take(self.pix, qc[None] + _take(self.off_map, t))[..., :3]
                if w is None:
                    out[a:a + rows] = val.sum(0) / len(deltas)
                else:
                    out[a:a + rows] = (val * w[..., None]).sum(0) / w.sum(0)[:, None]
        if best:
            out += self._seam_correction(copy_off)
        _put(self.pix[:, :3], q, out)
        if self.touches_border:
            self._repad()

    def _seam_correction(self, off):
        """Gradient-domain join of a copied fill: along the hole's outline, the known pixel
        minus what the copied patch continues to there; that difference spread smoothly
        over the hole (membrane). Returns the (Q, 3) correction for the hole pixels."""
        q, wp, n = self.q, self.wp, self.hp * self.wp
        y0, y1, x0, x1 = self.box  # holds the hole and its outline: work in the box only
        bw = x1 - x0
        num = torch.zeros((y1 - y0) * bw, 3, device=q.device)
        cnt = torch.zeros((y1 - y0) * bw, device=q.device)
        edge, edge_off = _take(q, self.outline), _take(off, self.outline)  # only they touch the ring
        for step in (1, -1, wp, -wp):
            b = edge + step
            ok = _take(self.known, b)
            bq, bo = b[ok], edge_off[ok]
            pred = _take(self.pix, (bq + bo).clamp_(0, n - 1))[:, :3]
            local = (bq // wp - y0) * bw + bq % wp - x0
            num.index_add_(0, local, _take(self.pix, bq)[:, :3] - pred)
            cnt.index_add_(0, local, torch.ones_like(local, dtype=cnt.dtype))
        ring = (cnt > 0).view(y1 - y0, bw)
        if not bool(ring.any()):
            return torch.zeros(q.numel(), 3, device=q.device)
        diff = (num / cnt.clamp_min(1)[:, None]).view(y1 - y0, bw, 3)
        field = _membrane(diff.permute(2, 0, 1).clamp_(-SEAM_LIMIT, SEAM_LIMIT), ring)
        ys, xs = q // wp - y0, q % wp - x0
        return field[:, ys, xs].T

    def _repad(self):
        pad = self.pad
        inner = self.pix.view(self.hp, self.wp, self.c)[pad:-pad, pad:-pad]
        self.pix.copy_(inner.index_select(0, self.rows).index_select(1, self.cols).view(-1, self.c))

    def onion_fill(self, guide_weight: float = 1.0):
        """Fill the hole from its border inwards, one pixel ring at a time: each ring pixel
        copies the centre of the source patch that best matches the pixels known so far
        around it (masked patch distance; candidates from filled neighbours' sources,
        random sources and a shrinking random search). Gives the coarsest level a start
        that continues the surrounding structure instead of a smooth (attracting) one."""
        dev, wp, r, n_pix = self.pix.device, self.wp, self.r, self.hp * self.wp
        inside = torch.zeros(self.hp, self.wp, dtype=torch.bool, device=dev)
        inside[self.pad:-self.pad, self.pad:-self.pad] = True
        filled = (inside & ~self.hole).flatten()
        todo = self.hole.flatten().clone()
        src = torch.full((n_pix,), -1, dtype=torch.long, device=dev)
        span = torch.arange(-r, r + 1, VOTE_STEP, device=dev)  # every other pixel is enough
        dy, dx = torch.meshgrid(span, span, indexing="ij")
        grid = (dy * wp + dx).flatten()
        nbs = torch.tensor([1, -1, wp, -wp, wp + 1, wp - 1, -wp + 1, -wp - 1], device=dev)
        radii = torch.tensor(self.radii(), device=dev)
        chan = torch.ones(self.c, device=dev)  # the guide lays out the structure here
        chan[3:] = guide_weight * ONION_GUIDE
        y0, y1, x0, x1 = self.box  # holds the hole with a margin: rings grow inside it
        filled_box = filled.view(self.hp, self.wp)[y0:y1, x0:x1]
        todo_box = todo.view(self.hp, self.wp)[y0:y1, x0:x1]
        left = int(todo.sum())
        while left:
            grown = F.max_pool2d(filled_box[None, None].float(), 3, 1, 1)[0, 0] > 0
            t = torch.nonzero(grown & todo_box)
            if t.shape[0] == 0:  # cannot happen with a valid source; be safe
                t = torch.nonzero(todo_box)
            t = (t[:, 0] + y0) * wp + t[:, 1] + x0
            left -= t.numel()
            around = (t[:, None] + grid[None]).clamp_(0, n_pix - 1)  # (N, P)
            w = filled[around].float()
            # per (pixel, channel) weights: colour over the known pixels (mean), the guide
            # (known everywhere) over all of them
            wts = (w / w.sum(-1, keepdim=True).clamp_min(1))[..., None] * chan[:3].new_ones(3)
            if self.c > 3:
                wts = torch.cat([wts, chan[3:].expand(len(t), grid.numel(), -1) / grid.numel()], -1)
            wts = wts.reshape(len(t), -1, 1)  # (N, P*C, 1)
            tv = _take(self.pix, around).view(len(t), 1, -1)  # (N, 1, P*C)

            def cost(cand):  # cand (N, K) source centres -> (N, K) masked distances
                idx = (cand[..., None] + grid).clamp_(0, n_pix - 1).flatten()
                d = _take(self.pix, idx).view(cand.shape[0], cand.shape[1], -1).sub_(tv)
                return torch.bmm(d.mul_(d), wts)[..., 0]

            nb = (t[:, None] + nbs[None]).clamp_(0, n_pix - 1)
            prop = torch.where(src[nb] >= 0, src[nb] + (t[:, None] - nb), -1)
            rand = _take(self.snap, torch.randint(0, n_pix, (t.numel(), ONION_RANDOM), generator=self.gen, device=dev))
            raw = torch.cat([prop, rand], 1)
            if self.dominant is not None and self.dominant.numel():  # only where usable
                dc = t[:, None] + self.dominant[None]
                usable = (dc >= 0) & (dc < n_pix) & _take(self.valid.flatten(), dc.clamp(0, n_pix - 1))
                raw = torch.cat([raw, torch.where(usable, dc, -1)], 1)
            cand = _take(self.snap, raw.clamp(0, n_pix - 1))
            cand = torch.where(raw >= 0, cand, rand[:, :1])
            d = cost(cand)
            best_d, pick = d.min(1)
            best = cand.gather(1, pick[:, None])[:, 0]
            for _ in range(ONION_ROUNDS):  # random search around the best, radius halving
                shape = (t.numel(), len(radii))
                ry = (torch.rand(shape, generator=self.gen, device=dev) * (2 * radii + 1)).long() - radii
                rx = (torch.rand(shape, generator=self.gen, device=dev) * (2 * radii + 1)).long() - radii
                cy = (best[:, None] // wp + ry).clamp_(0, self.hp - 1)
                cx = (best[:, None] % wp + rx).clamp_(0, wp - 1)
                cand = _take(self.snap, cy * wp + cx)
                d = cost(cand)
                dmin, pick = d.min(1)
                better = dmin < best_d
                best = torch.where(better, cand.gather(1, pick[:, None])[:, 0], best)
                best_d = torch.where(better, dmin, best_d)
            self.pix[t, :3] = self.pix[best, :3]
            src[t] = best
            filled[t] = True
            todo[t] = False
        if self.touches_border:
            self._repad()

    def dominant_offsets(self, count):
        """(K, 2) offsets (dy, dx), each with its negative: the ones known patches most
        often find their most similar other patch at (He & Sun 2012), i.e. the periods
        of regular structure (planks, bricks, ripples). Empty when none is common."""
        ok = torch.nonzero(self.valid.flatten()).flatten()
        if ok.numel() < 16 or count <= 0:
            return ok.new_zeros(0, 2)
        samp = ok[torch.randint(ok.numel(), (min(512, ok.numel()),), generator=self.gen, device=ok.device)]
        best = _nearest_other(_take(self.desc, samp).cpu().numpy(), _take(self.desc, ok).cpu().numpy(),
                              samp.cpu().numpy(), ok.cpu().numpy(), self.wp, self.p)
        best_t = torch.from_numpy(best).to(ok.device)
        dy, dx = best_t // self.wp - samp // self.wp, best_t % self.wp - samp % self.wp
        flip = (dy < 0) | ((dy == 0) & (dx < 0))  # an offset and its negative: one period
        dy, dx = torch.where(flip, -dy, dy), torch.where(flip, -dx, dx)
        votes = torch.zeros(self.hp + 2, 2 * self.wp + 3, device=ok.device)  # (dy, dx) + margin
        votes.index_put_((dy + 1, dx + self.wp + 1), torch.ones_like(dy, dtype=votes.dtype), accumulate=True)
        near = F.avg_pool2d(votes[None, None], 3, 1, 1)[0, 0] * 9  # a period +- 1 px counts
        score = near + votes  # ... but its own cell most: a peak sits on its mode
        peak = (score == F.max_pool2d(score[None, None], 5, 1, 2)[0, 0]) & (near >= DOMINANT_SHARE * samp.numel())
        ys, xs = torch.nonzero(peak, as_tuple=True)
        order = score[ys, xs].argsort(descending=True)[:count]
        yx = torch.stack([ys[order] - 1, xs[order] - self.wp - 1], 1)
        return torch.cat([yx, -yx])

    def image(self):
        pad = self.pad
        return self.pix.view(self.hp, self.wp, self.c)[pad:-pad, pad:-pad, :3]


def _membrane(values, fixed, iterations=None, top=True):
    """Smooth (C, H, W) field equal to ``values`` where ``fixed`` (H, W) is True, harmonic
    elsewhere; coarse to fine (each level starts from the upsampled coarser solution)."""
    iterations = MEMBRANE_ITERS if iterations is None else iterations
    c, h, w = values.shape
    if min(h, w) <= 8:
        mean = values[:, fixed].mean(1) if bool(fixed.any()) else values.new_zeros(c)
        field = mean[:, None, None].expand(c, h, w).clone()
    else:
        wgt = fixed.float()[None, None]
        num = F.avg_pool2d(values[None] * wgt, 2, ceil_mode=True)
        den = F.avg_pool2d(wgt, 2, ceil_mode=True)
        small = _membrane((num / den.clamp_min(1e-6))[0], den[0, 0] > 0, iterations, False)
        field = F.interpolate(small[None], size=(h, w), mode="bilinear", align_corners=False)[0]
    # Jacobi sweeps with replicated edges: shifted sums on one padded buffer (several times
    # faster than a grouped conv2d); pinned pixels keep their values
    free = (~fixed).to(values.dtype)
    pinned = values * fixed
    buf = values.new_empty(c, h + 2, w + 2)  # the field, its edges replicated around it
    inner = buf[:, 1:-1, 1:-1]
    inner.copy_(field)
    total = torch.empty_like(values)
    for _ in range(MEMBRANE_TOP if top else iterations):
        buf[:, 0, 1:-1], buf[:, -1, 1:-1] = inner[:, 0], inner[:, -1]
        buf[:, 1:-1, 0], buf[:, 1:-1, -1] = inner[:, :, 0], inner[:, :, -1]
        torch.add(buf[:, :-2, 1:-1], buf[:, 2:, 1:-1], out=total)
        total += buf[:, 1:-1, :-2]
        total += buf[:, 1:-1, 2:]
        torch.addcmul(pinned, total, free, value=0.25, out=inner)
    return inner


def _nearest_other(ds, da, samp, ok, wp, p):
    """For each sample patch (descriptors ``ds``, flat canvas index ``samp``), the flat
    index of the most similar other source patch among ``ok`` (descriptors ``da``): not
    one overlapping it; of equals (exact repeats), the nearest. In numpy: its matrix
    product and argmin are several times faster than torch's on the CPU (and this runs
    on a small shrunk copy, so a GPU gains nothing)."""
    pos = np.full(int(ok.max()) + p * wp + p + 1, -1, np.int64)  # flat index -> source number
    pos[ok] = np.arange(len(ok))
    span = np.arange(1 - p, p)
    near = (span[:, None] * wp + span[None]).ravel()  # the patches overlapping a sample
    oy, ox = (ok // wp).astype(np.float32), (ok % wp).astype(np.float32)
    sy, sx = (samp // wp).astype(np.float32), (samp % wp).astype(np.float32)
    na = (da * da).sum(1)
    axes = -2 * da.T
    best = np.empty(len(samp), np.int64)
    for a in range(0, len(samp), 64):  # 64 rows at a time stay in the cache
        b = min(len(samp), a + 64)
        d = ds[a:b] @ axes
        d += na
        gap = np.abs(oy[None] - sy[a:b, None])
        gap += np.abs(ox[None] - sx[a:b, None])
        gap *= np.float32(1e-5)
        d += gap  # of equals, the nearest
        col = pos[samp[a:b, None] + near[None]]
        row = np.broadcast_to(np.arange(b - a)[:, None], col.shape)
        hit = col >= 0
        d[row[hit], col[hit]] = np.inf
        best[a:b] = ok[d.argmin(1)]
    return best


@contextmanager
def _threads_for(pixels, dev):
    """One CPU thread for a canvas under ``SMALL_CANVAS`` pixels: its ops are too small to
    gain from more, and the threads' hand-offs cost (a 512 px fill: 0.13 s on one thread,
    0.19 s on two; at 1 MP even, at 2 MP two win). Restores the count afterwards."""
    count = torch.get_num_threads()
    if dev.type != "cpu" or pixels >= SMALL_CANVAS or count == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(count)


def _mirror(n, pad, dev):
    """Indices of a length-``n`` axis padded by ``pad`` on each side, mirrored at the ends
    (the edge pixel not repeated): the canvas border looks like real texture."""
    period = max(1, 2 * (n - 1))
    i = torch.arange(-pad, n + pad, device=dev).abs_().remainder_(period)
    return torch.where(i >= n, period - i, i)


def _take(table, idx):
    """``table[idx]`` for a 1-D or row table and a long index of any shape. On the CPU,
    rows go through numpy's ``take``, each row moved as 8- or 16-byte words where its size
    allows: several times faster than tensor indexing and faster than ``index_select``
    at one or two threads (same values: a gather either way)."""
    flat = idx.reshape(-1)
    if table.dim() == 2 and table.device.type == "cpu" and table.is_contiguous():
        rows = table.numpy()
        size = rows.shape[1] * rows.itemsize
        if size % 16 == 0:
            rows = rows.view(np.complex128)
        elif size % 8 == 0:
            rows = rows.view(np.float64)
        out = torch.from_numpy(np.take(rows, flat.numpy(), axis=0).view(table.numpy().dtype))
    else:
        out = table.index_select(0, flat)
    return out.view(*idx.shape, *table.shape[1:])


def _put(table, idx, values):
    """``table[idx] = values`` for a 1-D long ``idx``; numpy's is far faster on the CPU."""
    if table.device.type == "cpu":
        table.numpy()[idx.numpy()] = values.numpy()
    else:
        table[idx] = values


def _dominant(level, patch, gen, weight):
    """A pyramid level's dominant offsets (K, 2), found on a copy shrunk until about
    ``DOMINANT_SOURCES`` known pixels are left (the search is quadratic), scaled back;
    ``weight``: the level's descriptor axes (their colour part serves the copy)."""
    img, hole, avoid, _ = level
    scale = 1
    while int(np.count_nonzero(~(hole | avoid))) > DOMINANT_SOURCES and min(hole.shape) >= 4 * patch:
        img, hole, avoid, _ = _down(img, hole, avoid, None)
        scale *= 2
    try:
        lvl = _Level(img, hole, avoid, None, patch, gen)
    except UserError:  # no source left at that size
        return torch.zeros(0, 2, dtype=torch.long, device=img.device)
    lvl.weight = weight[:DESC_DIMS, :3].contiguous(memory_format=torch.channels_last)
    lvl.update_desc(full=True)
    return lvl.dominant_offsets(DOMINANT) * scale


def _down(img, hole, avoid, guide):
    """Half-size level: known-only colour average; hole/avoid if any fine pixel was."""
    known = torch.from_numpy(~hole).to(img.device).float()[None, None]
    x = img.permute(2, 0, 1)[None]
    num = F.avg_pool2d(x * known, 2, ceil_mode=True)
    den = F.avg_pool2d(known, 2, ceil_mode=True)
    small = (num / den.clamp_min(1e-6))[0].permute(1, 2, 0)
    small_guide = None
    if guide is not None:
        small_guide = F.max_pool2d(guide[None, None], 2, ceil_mode=True)[0, 0]
    return small, _any2x2(hole), _any2x2(avoid), small_guide


def _thickness(hole):
    """Width of the hole's thickest part: twice the largest distance to a known pixel."""
    dist = cv2.distanceTransform(np.pad(hole, 1).astype(np.uint8), cv2.DIST_L2, 3)
    return 2 * float(dist.max())


def _has_sources(bad, patch):
    known = (~bad).astype(np.uint8)
    return bool(cv2.erode(known, np.ones((patch, patch), np.uint8), borderValue=0).any())


def _any2x2(mask):
    h, w = mask.shape
    m = np.pad(mask, ((0, h % 2), (0, w % 2)))
    return m[0::2, 0::2] | m[1::2, 0::2] | m[0::2, 1::2] | m[1::2, 1::2]  # far faster than any()


def _guide_channel(image, hole, sketch, dev):
    """Edges of the known image outside the hole, sketch lines inside; softened."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    edges = cv2.Canny(gray, 60, 150)
    # a thin line's two Canny edges closed into one band, then every edge thinned to its
    # centre: a line and an edge both look like one line, as a drawn sketch line does
    edges = cv2.morphologyEx(edges, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    edges = raster.thin_lines(edges > 0)
    near = cv2.dilate(hole.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    lines = raster.thin_lines(sketch & hole)  # one pixel wide, like the Canny edges
    guide = np.where(near, lines & near, edges & ~near).astype(np.float32)
    guide = cv2.GaussianBlur(guide, (0, 0), 1.0) * 2.5
    return torch.from_numpy(np.minimum(guide, 1.0)).to(dev)


class PatchMatchEngine(Engine):
    info = get_info("patchmatch")
    can_refine = True
    refine_takes_nnf = True
    fill_gives_nnf = True

    def _setup(self, image, hole, sketch, avoid, params):
        check_inputs(image, hole, sketch, avoid)
        p = self.merged_params(params)
        patch = _odd_patch(p["patch_size"])
        dev = pick_device(self.device)
        gen = torch.Generator(device=dev)
        gen.manual_seed(int(p["seed"]))
        avoid = np.zeros_like(hole) if avoid is None else avoid
        use_guide = sketch is not None and float(p["sketch_weight"]) > 0 and bool((sketch & hole).any())
        guide = _guide_channel(image, hole, sketch, dev) if use_guide else None
        img = torch.from_numpy(image).to(dev).float() / 255.0
        return p, patch, dev, gen, img, hole, avoid, guide

    def fill(
        self,
        image: np.ndarray,
        hole: np.ndarray,
        sketch: Optional[np.ndarray] = None,
        params: Optional[Mapping[str, Any]] = None,
        *,
        avoid: Optional[np.ndarray] = None,
        progress: Optional[ProgressFn] = None,
        cancel: Optional[CancelToken] = None,
    ) -> np.ndarray:
        """The engine contract."""
        return self._fill(image, hole, sketch, params, avoid=avoid, return_nnf=False,
                          progress=progress, cancel=cancel)

    def fill_with_nnf(
        self,
        image: np.ndarray,
        hole: np.ndarray,
        sketch: Optional[np.ndarray] = None,
        params: Optional[Mapping[str, Any]] = None,
        *,
        avoid: Optional[np.ndarray] = None,
        progress: Optional[ProgressFn] = None,
        cancel: Optional[CancelToken] = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """``fill`` and the finest level's field, in the form ``refine`` takes as ``nnf``
        (a coarse-to-fine start)."""
        return self._fill(image, hole, sketch, params, avoid=avoid, return_nnf=True,
                          progress=progress, cancel=cancel)

    def _fill(self, image, hole, sketch, params, *, avoid, return_nnf, progress, cancel):
        """``fill`` (``return_nnf`` False) or ``fill_with_nnf`` (True)."""
        check_inputs(image, hole, sketch, avoid)
        check_cancel(cancel)
        if not hole.any():
            empty = np.full(hole.shape + (2,), -1, np.int32)
            return (image.copy(), empty) if return_nnf else image.copy()
        p, patch, dev, gen, img, th, ta, guide = self._setup(image, hole, sketch, avoid, params)
        iters = max(1, int(p["iterations"]))
        gw = float(p["sketch_weight"])
        with torch.inference_mode(), _threads_for(hole.size, dev):
            pyramid = [(img, th, ta, guide)]
            while True:
                cur_hole = pyramid[-1][1]
                if _thickness(cur_hole) <= COARSE_SPAN * patch or min(cur_hole.shape) < 2 * MIN_SIDE:
                    break
                smaller = _down(*pyramid[-1])
                if not _has_sources(smaller[1] | smaller[2], patch):
                    break
                pyramid.append(smaller)
            # coarsest level: twice the iterations; finest (when upsampled): half of them;
            # a thin hole (one level at full size) gets the plain number
            steps = [2 * iters] + [iters] * (len(pyramid) - 2) + [(iters + 1) // 2]
            steps = steps[:len(pyramid)] if len(pyramid) > 1 else [max(1, int(SINGLE_ITERS * iters))]
            large = len(pyramid) > 1 and np.count_nonzero(hole) > LARGE_HOLE
            if large:  # one iteration from a smooth start: as good (bench_quality --hires-wide)
                steps[-1] = 1
            total, done = sum(steps), 0
            prev = None
            for depth in range(len(pyramid) - 1, -1, -1):
                li, lh, la, lg = pyramid[depth]
                lvl = _Level(li, lh, la, lg, patch, gen)
                if prev is None:
                    lvl.make_basis(gw)
                else:  # the coarsest level's axes serve every level (patch statistics are
                    lvl.weight = prev.weight  # about scale-invariant; bench_quality unchanged)
                finest = depth == 0
                if prev is None:
                    # own generator: where none is found, the fill is as without them
                    own = torch.Generator(device=dev).manual_seed(int(p["seed"]))
                    yx = _dominant(pyramid[-1], patch, own, lvl.weight)
                    lvl.dominant = yx[:, 0] * lvl.wp + yx[:, 1]
                    lvl.onion_fill(gw)
                    lvl.update_desc(full=True)
                    lvl.random_init()
                    dist = lvl.search(2, (8, 4, 2, 1), lvl.radii())
                else:
                    lvl.init_from(prev)
                    # a sharp start: a mean vote here attracts smooth sources (but a large
                    # hole's one finest iteration needs the smooth start's coherent field)
                    lvl.vote(best=not (finest and large), uniform=True)
                    lvl.update_desc(full=True)
                    dist = None
                n_it = steps[len(pyramid) - 1 - depth]
                for it in range(n_it):
                    check_cancel(cancel)
                    if dist is None:
                        if it:  # (the level's start has its descriptors already)
                            lvl.update_desc()
                        if prev is not None and (finest or it > 0):  # field is close: search nearby
                            dist = lvl.search(1, (2, 1), lvl.radii(8))
                        else:
                            dist = lvl.search(1, (4, 2, 1), lvl.radii())
                    lvl.set_weights(dist)
                    lvl.vote(best=finest and it == n_it - 1)  # last vote copies, never blurs
                    dist = None
                    done += 1
                    if progress:
                        progress(done / total, f"level {len(pyramid) - depth}/{len(pyramid)}, iteration {it + 1}")
                prev = lvl
            out = (prev.image() * 255.0).round_().clamp_(0, 255).to(torch.uint8).cpu().numpy()
            field = prev.sources() if return_nnf else None
        result = image.copy()
        np.copyto(result, out, where=hole[..., None])
        return (result, field) if return_nnf else result

    def refine(
        self,
        image: np.ndarray,
        hole: np.ndarray,
        init: np.ndarray,
        *,
        params: Optional[Mapping[str, Any]] = None,
        closeness: float = 0.5,
        avoid: Optional[np.ndarray] = None,
        sketch: Optional[np.ndarray] = None,
        nnf: Optional[np.ndarray] = None,
        return_nnf: bool = False,
        progress: Optional[ProgressFn] = None,
        cancel: Optional[CancelToken] = None,
    ):
        """Single-scale EM completion at this resolution, starting from ``init``.

        ``image`` RGB uint8 (H, W, 3); ``hole`` bool (H, W); ``init`` RGB uint8 (H, W, 3),
        equal to ``image`` outside the hole and holding an upsampled coarse fill inside it.
        The NNF is first matched to init's patches (PatchMatch from a random start), or,
        given ``nnf``, the hole starts as the mean of that field's sources (init then only
        anchors the matching) and a cheap nearby search follows; then
        ``params['iterations']`` EM iterations (at most 3) vote real pixels of known source
        patches of this level into the hole (the last vote copies, so the result is as
        textured as the source). ``closeness`` (0..1) anchors the matching to init: each
        target patch is compared as ``(1 - closeness) * current fill + closeness * init``,
        so 1 keeps every match on init's appearance and 0 lets the fill drift towards
        whatever texture fits its own neighbourhood. Pixels outside the hole come back
        unchanged; ``avoid`` (and anything outside the image) is never sampled from;
        ``sketch`` guides as in ``fill``.

        ``nnf`` (H, W, 2) int: a starting field, the source pixel (y, x) each pixel's patch
        should copy from (-1 where unknown), e.g. a coarser level's field with coordinates
        doubled; sources that are not usable here are moved to the nearest usable one.
        With ``return_nnf`` the result is ``(image, nnf)``, the field it ended with in the
        same form (-1 away from the hole).
        """
        check_inputs(image, hole, sketch, avoid)
        if init.shape != image.shape or init.dtype != np.uint8:
            raise UserError(f"refine init must be {image.shape} uint8, got {init.dtype} {init.shape}")
        closeness = float(min(max(closeness, 0.0), 1.0))
        check_cancel(cancel)
        if nnf is not None and nnf.shape != hole.shape + (2,):
            raise UserError(f"refine nnf must be {hole.shape + (2,)}, got {nnf.shape}")
        if not hole.any():
            empty = np.full(hole.shape + (2,), -1, np.int32)
            return (image.copy(), empty) if return_nnf else image.copy()
        start = init
        if init is not image:
            start = image.copy()
            np.copyto(start, init, where=hole[..., None])
        p, patch, dev, gen, img, th, ta, guide = self._setup(start, hole, sketch, avoid, params)
        iters = min(max(1, int(p["iterations"])), 3)
        with torch.inference_mode(), _threads_for(hole.size, dev):
            lvl = _Level(img, th, ta, guide, patch, gen)
            lvl.make_basis(float(p["sketch_weight"]))
            anchor = None  # init's descriptors at the targets: later iterations match to them
            if nnf is None or iters > 1:
                lvl.update_desc(full=True)
                anchor = _take(lvl.desc, lvl.tgt)
            if nnf is None:
                lvl.random_init()
                dist = lvl.search(3, (16, 8, 4, 2, 1), lvl.radii())
            else:  # the field is close already: propagate and search nearby only
                lvl.init_sources(nnf)
                # start from the field's own sources (a mean vote), not init: matched to
                # a blurred upsample, neighbours drift to unrelated sources (blotches)
                lvl.vote(uniform=True, step=START_STEP)
                lvl.update_desc(full=True)
                dist = lvl.search(1, NEAR_JUMPS, lvl.radii(NEAR_RADIUS))
            for it in range(iters):
                check_cancel(cancel)
                if it:
                    lvl.update_desc()
                    dist = lvl.search(1, (4, 2, 1), lvl.radii(64), anchor, closeness)
                lvl.set_weights(dist)
                lvl.vote(best=it == iters - 1)
                if progress:
                    progress((it + 1) / iters, f"refine iteration {it + 1}/{iters}")
            out = (lvl.image() * 255.0).round_().clamp_(0, 255).to(torch.uint8).cpu().numpy()
            field = lvl.sources() if return_nnf else None
        result = image.copy()
        np.copyto(result, out, where=hole[..., None])
        return (result, field) if return_nnf else result
