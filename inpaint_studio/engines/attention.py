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

For DeepFill v2's fused scores (3x3 identity-kernel propagation of the score matrix), pass
``scores_fn(pq, pk_normed, q_idx, k_idx) -> (nq, nk)`` that builds fused scores from ``patch_scores``
(raw scores of any index pairs; index -1 reads as an all-zero patch). Compute precision
follows the input dtype (cast to fp16/bf16 before calling, or run under torch.autocast).
"""
from __future__ import annotations

from typing import Callable, Optional

import torch
import torch.nn.functional as F

EPS = 1e-4  # minimum key-patch norm (both reference codes)


def valid_keys(mask: torch.Tensor, ksize: int = 3) -> torch.Tensor:
    """(B, 1, H, W) hole mask (>0 = hole) on the matching grid -> (B, H*W) bool: the
    ksize x ksize patch around each key (zero padded at the border) is all known."""
    if ksize > 1:
        mask = F.max_pool2d(mask, ksize, stride=1, padding=ksize // 2)
    return (mask == 0).flatten(1)


def unfold_patches(x: torch.Tensor, ksize: int) -> torch.Tensor:
    """(C, H, W) -> (H*W, C*ksize*ksize): the zero-padded patch centred on every pixel."""
    return F.unfold(x[None], ksize, padding=ksize // 2)[0].t()


def raw_patches(raw: torch.Tensor, rate: int) -> torch.Tensor:
    """(C, r*H, r*W) -> (H*W, C*2r*2r): patches of size 2r, stride r, zero padding r // 2."""
    pad = rate // 2
    return F.unfold(F.pad(raw[None], (pad, pad, pad, pad)), 2 * rate, stride=rate)[0].t()


def paste(cols: torch.Tensor, grid: tuple[int, int], rate: int) -> torch.Tensor:
    """(H*W, C*2r*2r) weighted patches per query -> (1, C, r*H, r*W) summed like
    conv_transpose2d(stride r, padding r // 2), then / 4 as in both papers."""
    h, w = grid
    pad = rate // 2
    canvas = F.fold(cols.t()[None], (rate * (h + 1), rate * (w + 1)), 2 * rate, stride=rate)
    return canvas[:, :, pad:pad + rate * h, pad:pad + rate * w] / 4.0


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
    norms = pk.float().norm(dim=1, keepdim=True).clamp_(min=EPS)
    return pk / norms.to(pk.dtype)


def attend_reference(f: torch.Tensor, b: torch.Tensor, raw: torch.Tensor, valid: torch.Tensor, *,
                     ksize: int = 3, rate: int = 2, scale: float = 10.0,
                     clamp: Optional[float] = None) -> torch.Tensor:
    """Straightforward all-pairs attention (the papers' computation), for tests/benchmarks.
    f, b: (B, C, H, W); raw: (B, C1, rH, rW); valid: (B, H*W) bool. Returns (B, C1, rH, rW)."""
    out = []
    h, w = b.shape[2:]
    for i in range(b.shape[0]):
        keys = normalise(unfold_patches(b[i], ksize))  # (L, C*k*k)
        filters = keys.view(h * w, b.shape[1], ksize, ksize)
        score = F.conv2d(f[i:i + 1], filters, padding=ksize // 2)  # (1, L, H, W)
        mm = valid[i].to(score.dtype).view(1, -1, 1, 1)
        weight = F.softmax(score * mm * scale, dim=1) * mm
        if clamp is not None:
            weight = weight.clamp(min=clamp)
        rp = raw_patches(raw[i], rate).view(h * w, raw.shape[1], 2 * rate, 2 * rate)
        out.append(F.conv_transpose2d(weight, rp, stride=rate, padding=rate // 2) / 4.0)
    return torch.cat(out)


def attend(f: torch.Tensor, b: torch.Tensor, raw: torch.Tensor, valid: torch.Tensor, *,
           ksize: int = 3, rate: int = 2, scale: float = 10.0, clamp: Optional[float] = None,
           queries: Optional[torch.Tensor] = None, max_elems: int = 1 << 22,
           scores_fn: Optional[Callable[..., torch.Tensor]] = None,
           check: Optional[Callable[[], None]] = None) -> torch.Tensor:
    """Fast attention: same result as ``attend_reference`` at the computed queries.

    queries: (B, H*W) bool, the query positions to compute (None = all). Outputs that only
    uncomputed queries paste into are 0 (plus nothing from the clamp term).
    scores_fn(pq, pk_normed, q_idx, k_idx) -> (nq, nk) raw scores, given all unfolded query
    patches pq (L, D) and all normalised key patches (L, D); default: the plain product
    of the selected rows (same as ``patch_scores``).
    check: called between chunks (e.g. a cancel check)."""
    bsz, _, h, w = b.shape
    n = h * w
    out = []
    for i in range(bsz):
        pk_all = unfold_patches(b[i], ksize).contiguous()
        pq = pk_all if f is b else unfold_patches(f[i], ksize).contiguous()
        rp_all = raw_patches(raw[i], rate).contiguous()
        k_idx = torch.nonzero(valid[i]).flatten()
        n_invalid = n - k_idx.numel()
        pk = normalise(pk_all[k_idx])
        rp = rp_all[k_idx]
        const = None
        if clamp is not None and n_invalid:  # invalid keys keep weight `clamp`
            const = clamp * rp_all[~valid[i]].sum(0)
        q_all = torch.arange(n, device=b.device) if queries is None else torch.nonzero(queries[i]).flatten()
        pq_sel = pq if queries is None or scores_fn else pq[q_all]
        pk_normed_all = normalise(pk_all) if scores_fn else None
        cols = rp_all.new_zeros(n, rp_all.shape[1])
        step = max(1, max_elems // max(k_idx.numel(), 1))
        for start in range(0, q_all.numel(), step):
            if check is not None:
                check()
            q_idx = q_all[start:start + step]
            if k_idx.numel():
                if scores_fn is None:
                    logits = pq_sel[start:start + step] @ pk.t()
                else:
                    logits = scores_fn(pq, pk_normed_all, q_idx, k_idx)
                logits = logits.float().mul_(scale)
                top = logits.amax(dim=1, keepdim=True)
                if n_invalid:
                    top.clamp_(min=0.0)  # the zero logits of invalid keys
                weight = logits.sub_(top).exp_()
                total = weight.sum(dim=1, keepdim=True)
                if n_invalid:
                    total += n_invalid * torch.exp(-top)
                weight.div_(total)
                if clamp is not None:
                    weight.clamp_(min=clamp)
                block = weight.to(rp.dtype) @ rp
            else:
                block = rp_all.new_zeros(q_idx.numel(), rp_all.shape[1])
            if const is not None:
                block += const
            cols[q_idx] = block
        out.append(paste(cols, (h, w), rate))
    return torch.cat(out)
