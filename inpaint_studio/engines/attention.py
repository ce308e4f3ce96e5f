"""Patch attention shared by the learned nets (PEN-Net ATN, DeepFill v2 contextual attention).

Both papers fill a hole by matching small patches of a feature map ``b`` (keys) against
patches of ``f`` (queries) and pasting larger "raw" patches of a second map ``raw`` back at
the query positions, weighted by a softmax over the match scores:

    score[q, k] = <patch_f(q), patch_b(k)> / max(|patch_b(k)|, 1e-4)   (ksize x ksize, zero padded)
    logits     = scale * score * valid[k]          (invalid keys score exactly 0, as in the papers)
    weight     = softmax over ALL keys (logits) * valid[k]     (invalid keys still count in the sum)
    weight     = weight.clamp(min=clamp)           (PEN-Net only: clamp=1e-8; DeepFill: None)
    out        = conv_transpose(weight, raw patches 2r x 2r, stride r, padding r // 2) / 4

``f``/``b`` live on the matching grid (H, W); ``raw`` is r times larger (r*H, r*W) and so is
the output. ``valid[k]`` is True for keys whose ksize x ksize mask patch is entirely known.

``attend_reference`` is the straightforward all-pairs computation (cost ~ (H*W)^2), kept
for tests and benchmarks. ``attend`` computes the same numbers for a chosen set of query
positions against the valid keys only, in chunks of at most ``max_elems`` scores; queries
that are not computed contribute nothing to the output (callers decide which outputs they
need). Invalid keys enter the softmax sum as ``exp(0)`` each and, with ``clamp``, add
``clamp * raw`` to every computed query, so results match the reference to float rounding.

The default scores come from ``gram_scores`` (rows of queries against all keys, inner size
C*ksize instead of C*ksize^2). For DeepFill v2's fused scores (3x3 identity-kernel
propagation of the score matrix) pass ``scores_fn(pq, pk_normed, q_idx) -> (nq, H*W)``,
normalised scores of the given queries against every key, built e.g. from ``patch_scores``
(index -1 reads as an all-zero patch). Default scores and the softmax run in float32; the
pasting follows the dtype of ``raw`` (fp16/bf16 inputs or torch.autocast make it half).
"""
from __future__ import annotations

from typing import Callable, Optional

import torch
import torch.nn.functional as F

EPS = 1e-4  # minimum key-patch norm (both reference codes)
TILE_ROWS = 16  # query rows per chunk: the row sums of gram_scores need 2 extra rows


def valid_keys(mask: torch.Tensor, ksize: int = 3) -> torch.Tensor:
    """(B, 1, H, W) hole mask (>0 = hole) on the matching grid -> (B, H*W) bool: the
    ksize x ksize patch around each key (zero padded at the border) is all known."""
    if ksize > 1:
        mask = F.max_pool2d(mask, ksize, stride=1, padding=ksize // 2)
    return (mask == 0).flatten(1)


def unfold_patches(x: torch.Tensor, ksize: int) -> torch.Tensor:
    """(C, H, W) -> (H*W, C*ksize*ksize): the zero-padded patch centred on every pixel."""
    return F.unfold(x[None], ksize, padding=ksize // 2)[0].t()


def patch_scores(pq: torch.Tensor, pk_normed: torch.Tensor, q_idx: torch.Tensor,
                 k_idx: torch.Tensor) -> torch.Tensor:
    """Raw scores for index pairs: rows of ``pq`` (unfolded query patches) at q_idx times
    rows of ``pk_normed`` (unfolded, normalised key patches) at k_idx. Index -1 = zero patch."""
    def take(p, idx):
        if idx.numel() and int(idx.min()) < 0:
            p = torch.cat([p, p.new_zeros(1, p.shape[1])])  # row -1 is zeros
        return p[idx]
    return take(pq, q_idx) @ take(pk_normed, k_idx).t()


def normalise(pk: torch.Tensor) -> torch.Tensor:
    """Divide each key patch by max(its norm, 1e-4)."""
    norms = pk.float().norm(dim=1, keepdim=True).clamp(min=EPS)
    return pk / norms.to(pk.dtype)


def attend_reference(f: torch.Tensor, b: torch.Tensor, raw: torch.Tensor, valid: torch.Tensor, *,
                     ksize: int = 3, rate: int = 2, scale: float = 10.0,
                     clamp: Optional[float] = None) -> torch.Tensor:
    """Straightforward all-pairs attention (the papers' computation) as batched matrix
    products: the training path, and the yardstick for ``attend`` in tests.
    f, b: (B, C, H, W); raw: (B, C1, rH, rW); valid: (B, H*W) bool. Returns (B, C1, rH, rW)."""
    h, w = b.shape[2:]
    queries = F.unfold(f, ksize, padding=ksize // 2).transpose(1, 2)  # (B, L, C*k*k)
    keys = F.unfold(b, ksize, padding=ksize // 2).transpose(1, 2)
    keys = keys / keys.float().norm(dim=2, keepdim=True).clamp(min=EPS).to(keys.dtype)
    score = torch.bmm(queries, keys.transpose(1, 2))  # (B, L queries, L keys)
    mm = valid.to(score.dtype)[:, None, :]
    weight = F.softmax(score * (mm * scale), dim=2) * mm  # one full-size product, not two
    if clamp is not None:
        weight = weight.clamp(min=clamp)
    pad = rate // 2
    patches = F.unfold(F.pad(raw, (pad, pad, pad, pad)), 2 * rate, stride=rate).transpose(1, 2)
    cols = torch.bmm(weight.to(patches.dtype), patches)  # (B, L queries, C1*2r*2r)
    return F.fold(cols.transpose(1, 2), (rate * h, rate * w), 2 * rate, stride=rate, padding=pad) / 4.0


def key_norms(b: torch.Tensor, ksize: int) -> torch.Tensor:
    """(C, H, W) -> (H*W,): max(norm of each zero-padded ksize x ksize patch, 1e-4)."""
    sq = (b.float() ** 2).sum(0)[None, None]
    total = F.avg_pool2d(sq, ksize, stride=1, padding=ksize // 2, count_include_pad=True) * ksize * ksize
    return total.flatten().sqrt().clamp(min=EPS)


def gram_scores(f: torch.Tensor, b: torch.Tensor, ksize: int) -> Callable[..., torch.Tensor]:
    """Return scores(y0, y1, x0, x1, columns=None) -> (rows * width, H*W): unnormalised
    patch dot products of the queries in that rectangle of ``f`` (C, H, W) (only the
    columns where the bool ``columns`` is True) against every key of ``b``.

    One matrix product of horizontally concatenated features (inner size C*ksize instead
    of C*ksize^2), then ksize shifted sums over the rows."""
    c, h, w = b.shape
    p = ksize // 2

    def hcat(x):  # (C, H, W) -> (C*k, H + 2p, W): row-padded horizontal patch vectors
        x = F.unfold(x[None], (1, ksize), padding=(0, p))[0].view(c * ksize, h, w)
        return F.pad(x, (0, 0, p, p))

    # float32: half-precision dot products of long patch vectors can overflow
    keys = hcat(b.float()).reshape(c * ksize, -1)
    fh = keys.view(c * ksize, h + 2 * p, w) if f is b else hcat(f.float())

    def scores(y0: int, y1: int, x0: int, x1: int, columns: Optional[torch.Tensor] = None) -> torch.Tensor:
        rows = y1 - y0
        queries = fh[:, y0:y1 + 2 * p, x0:x1]
        if columns is not None:  # only these columns of the rectangle (bool)
            queries = queries[:, :, columns]
        width = queries.shape[2]
        with torch.autocast(keys.device.type, enabled=False):
            g = queries.reshape(c * ksize, -1).t() @ keys
        g = g.view(rows + 2 * p, width, h + 2 * p, w)
        if p == 0:
            return g.view(-1, h * w)
        score = torch.add(g[:rows, :, :h], g[1:rows + 1, :, 1:h + 1])
        for d in range(2, 2 * p + 1):
            score += g[d:d + rows, :, d:d + h]
        return score.view(-1, h * w)

    return scores


def attend(f: torch.Tensor, b: torch.Tensor, raw: torch.Tensor, valid: torch.Tensor, *,
           ksize: int = 3, rate: int = 2, scale: float = 10.0, clamp: Optional[float] = None,
           queries: Optional[torch.Tensor] = None, max_elems: int = 1 << 22,
           scores_fn: Optional[Callable[..., torch.Tensor]] = None,
           check: Optional[Callable[[], None]] = None) -> torch.Tensor:
    """Fast attention: same result as ``attend_reference`` at the computed queries.

    queries: (B, H*W) bool, the query positions to compute (None = all). Outputs that only
    uncomputed queries paste into get nothing from them.
    max_elems: rough bound on the elements of one chunk's score matrix (queries x keys).
    scores_fn(pq, pk_normed, q_idx) -> (nq, H*W) scores against every key, given all
    unfolded query patches pq (L, D) and all normalised key patches (L, D) (see
    ``patch_scores``); default: ``gram_scores`` divided by ``key_norms`` (same numbers).
    check: called between chunks (e.g. a cancel check).

    Pasting works on r x r blocks: output block J sums the weights of the four query/key
    pairs (J - a, k - a), a in {0, 1}^2, so one product with the (H+1)(W+1) raw blocks
    replaces the product with the 2r x 2r raw patches (4x fewer operations)."""
    if rate % 2:
        raise ValueError("attention rate must be even")
    bsz, _, h, w = b.shape
    out = []
    for i in range(bsz):
        qmask = torch.ones(h, w, dtype=torch.bool, device=b.device) if queries is None \
            else queries[i].view(h, w)
        canvas = raw.new_zeros(h + 1, w + 1, raw.shape[1] * rate * rate)
        rows = torch.nonzero(qmask.any(1)).flatten()
        if rows.numel():
            _attend_one(f[i], b[i], raw[i], valid[i], qmask, canvas, int(rows[0]), int(rows[-1]) + 1,
                        ksize, rate, scale, clamp, max_elems, scores_fn, check)
        # (H+1, W+1, C, r, r) blocks -> (C, r(H+1), r(W+1)) canvas -> crop the padding
        c1 = raw.shape[1]
        full = canvas.view(h + 1, w + 1, c1, rate, rate).permute(2, 0, 3, 1, 4)
        full = full.reshape(1, c1, rate * (h + 1), rate * (w + 1))
        pad = rate // 2
        out.append(full[:, :, pad:pad + rate * h, pad:pad + rate * w] / 4.0)
    return torch.cat(out)


def _attend_one(f, b, raw, valid, qmask, canvas, row0, row1, ksize, rate, scale, clamp,
                max_elems, scores_fn, check) -> None:
    """Accumulate the pasted blocks of one image's queries into ``canvas``."""
    h, w = qmask.shape
    n = h * w
    cols = torch.nonzero(qmask.any(0)).flatten()
    x0, x1 = int(cols[0]), int(cols[-1]) + 1
    wq = x1 - x0
    pad = rate // 2
    c1 = raw.shape[0]
    rp = F.pad(raw, (pad, pad, pad, pad))  # (C1, r(H+1), r(W+1)) -> r x r blocks per key
    blocks = rp.view(c1, h + 1, rate, w + 1, rate).permute(1, 3, 0, 2, 4).reshape((h + 1) * (w + 1), -1)
    col_scale = valid.to(torch.float32) * scale
    keep = valid.view(1, h, w).float()
    if scores_fn is None:
        col_scale /= key_norms(b, ksize)
        gram = gram_scores(f, b, ksize)
    else:
        pq = unfold_patches(f, ksize)
        pk = normalise(unfold_patches(b, ksize))
    # tiles of up to TILE_ROWS query rows, as many columns as max_elems allows
    tile_rows = min(TILE_ROWS, row1 - row0)
    tile_cols = max(1, min(wq, max_elems // ((tile_rows + 2) * (n + 2 * w))))
    tiles = [(y0, min(y0 + tile_rows, row1), xa, min(xa + tile_cols, x1))
             for y0 in range(row0, row1, tile_rows) for xa in range(x0, x1, tile_cols)]
    for y0, y1, xa, xb in tiles:
        if check is not None:
            check()
        hq, wt = y1 - y0, xb - xa
        sel2d = qmask[y0:y1, xa:xb]
        sel = sel2d.flatten()
        if not sel.any():
            continue
        ys, xs = torch.meshgrid(torch.arange(y0, y1, device=b.device),
                                torch.arange(xa, xb, device=b.device), indexing="ij")
        q_idx = (ys * w + xs).flatten()[sel]
        if scores_fn is None:
            active = sel2d.any(0)
            if bool(active.all()):
                score = gram(y0, y1, xa, xb)
                score = score if bool(sel.all()) else score[sel]
            else:
                score = gram(y0, y1, xa, xb, active)[sel2d[:, active].flatten()]
        else:
            score = scores_fn(pq, pk, q_idx)
        # invalid keys: logit exactly 0, still in the softmax sum (as in the papers)
        weight = F.softmax(score.float() * col_scale, dim=1).view(-1, h, w) * keep
        del score
        if clamp is not None:
            weight = weight.clamp(min=clamp)  # out of place: training backpropagates through it
        if not bool(sel.all()):
            full = weight.new_zeros(hq * wt, h, w)
            full[sel] = weight
            weight = full
        weight = weight.view(hq, wt, h, w)
        # V[J, k] = sum over a in {0,1}^2 of weight[J - a, k - a]
        v = weight.new_zeros(hq + 1, wt + 1, h + 1, w + 1)
        for a in (0, 1):
            for c in (0, 1):
                v[a:a + hq, c:c + wt, a:a + h, c:c + w] += weight
        del weight
        touched = torch.zeros(hq + 1, wt + 1, dtype=torch.bool, device=b.device)
        for a in (0, 1):
            for c in (0, 1):
                touched[a:a + hq, c:c + wt] |= sel2d
        v = v.view(-1, (h + 1) * (w + 1))
        if bool(touched.all()):
            canvas[y0:y1 + 1, xa:xb + 1] += (v.to(blocks.dtype) @ blocks).view(hq + 1, wt + 1, -1)
        else:  # only the output blocks that some computed query reaches
            part = canvas[y0:y1 + 1, xa:xb + 1]
            part[touched] += v[touched.flatten()].to(blocks.dtype) @ blocks
