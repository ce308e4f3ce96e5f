"""DeepFill contextual attention on top of the shared patch attention (engines/attention.py).

Input: the 1/4-resolution feature ``x`` (B, C, H4, W4), H4 and W4 even, and the full-size
hole mask (B, 1, 4*H4, 4*W4), 1 = hole. Matching happens at 1/8 (``x`` subsampled by 2,
nearest); keys and queries are 3x3 patches there; keys touching the hole (in the 1/8 mask)
are invalid; 4x4 patches of ``x`` are pasted back (stride 2) and divided by 4.

DeepFill specifics handled here:

- ``fuse``: the (key, query) score matrix is summed along its diagonal (3 taps) with both
  indexed in raster order, then again in column-major order, so neighbouring matches
  reinforce each other. Indices run on across row ends, as in the original.
- key normalisation: ``"max"`` divides by max(|w|, 1e-4) (the official TensorFlow code,
  used for the TF-converted weights); ``"escape"`` by sqrt(sum(w^2 + 1e-4)) (the PyTorch
  port the ``states_pt_*`` weights were fine-tuned with).

``contextual_attention(..., reference=True)`` is the straightforward all-pairs computation;
the default computes only the queries that can reach a hole pixel of the network output
(``relevant_queries``) against the valid keys, so the filled pixels are the same.
"""
from __future__ import annotations

from typing import Callable, Optional

import torch
import torch.nn.functional as F

from inpaint_studio.engines.attention import attend, valid_keys

SCALE = 10.0
ESCAPE = 1e-4


def relevant_queries(hole: torch.Tensor) -> torch.Tensor:
    """(B, H/8 * W/8) bool: queries whose output can reach a hole pixel of the output.

    Follows the layers after the attention: 4 convs 3x3 at 1/4, nearest x2, 2 convs at 1/2,
    nearest x2, 3 convs at full size; a query pastes a 4x4 footprint (stride 2, pad 1) at 1/4.
    """
    m = hole.float()
    for size, stride, pad in ((7, 1, 3), (2, 2, 0), (5, 1, 2), (2, 2, 0), (9, 1, 4), (4, 2, 1)):
        m = F.max_pool2d(m, size, stride, pad)
    return (m > 0).flatten(1)


def _normalise(p: torch.Tensor, norm: str) -> torch.Tensor:
    if norm == "escape":
        return p / torch.sqrt((p * p).sum(1, keepdim=True) + p.shape[1] * ESCAPE)
    return p / p.norm(dim=1, keepdim=True).clamp(min=ESCAPE)


def _neighbours(hs: int, ws: int, device) -> dict:
    """Index maps (-1 = off the ends): raster +-1 and column-major +-1."""
    n = hs * ws
    idx = torch.arange(n, device=device)
    cm = (idx % ws) * hs + idx // ws  # raster index -> column-major position
    order = torch.empty_like(idx)
    order[cm] = idx  # column-major position -> raster index

    def moved(pos, d, back):
        t = pos + d
        return torch.where((t >= 0) & (t < n), back[t.clamp(0, n - 1)], torch.full_like(t, -1))

    return {"r-": moved(idx, -1, idx), "r+": moved(idx, 1, idx),
            "c-": moved(cm, -1, order), "c+": moved(cm, 1, order)}


def _diagonal(lookup, q: torch.Tensor, prev: torch.Tensor, nxt: torch.Tensor) -> torch.Tensor:
    """out[i, k] = M[q_i, k] + M[prev_i, k-1] + M[next_i, k+1] (rows -1 and columns off
    the ends count as zero), M given by ``lookup(row indices)`` -> rows of M."""
    out = lookup(q).clone()
    out[:, 1:] += lookup(prev)[:, :-1]
    out[:, :-1] += lookup(nxt)[:, 1:]
    return out


def _diagonal_cm(lookup, q: torch.Tensor, prev: torch.Tensor, nxt: torch.Tensor, ws: int) -> torch.Tensor:
    """Like ``_diagonal`` with the key shift taken in column-major order, on raster-ordered
    columns: key k's column-major successor is k + W, or, on the bottom row, the top-row
    key one column right (k - (L - W) + 1)."""
    out = lookup(q).clone()
    n = out.shape[1]
    after, before = lookup(nxt), lookup(prev)
    out[:, :n - ws] += after[:, ws:]
    out[:, n - ws:n - 1] += after[:, 1:ws]
    out[:, ws:] += before[:, :n - ws]
    out[:, 1:ws] += before[:, n - ws:n - 1]
    return out


def _scores_fn(hs: int, ws: int, norm: str, fuse: bool, device) -> Callable:
    """scores_fn for ``attend``: (fused) scores of the given queries against every key
    (or against ``k_idx`` only, when given)."""
    nb = _neighbours(hs, ws, device) if fuse else None
    cache: dict = {}

    def rows_of(padded: torch.Tensor, have: torch.Tensor):
        """Row lookup into ``padded`` (rows = raster indices ``have``, then one zero row);
        index -1 -> the zero row."""
        pos = torch.full((hs * ws + 1,), have.numel(), dtype=torch.long, device=padded.device)
        pos[have] = torch.arange(have.numel(), device=padded.device)
        return lambda idx: padded[pos[idx]]

    def with_zero_row(rows: int, cols: int, like: torch.Tensor) -> torch.Tensor:
        out = like.new_empty(rows + 1, cols)
        out[rows].zero_()
        return out

    def scores(pq, pk_normed_all, q_idx, k_idx=None):
        if norm == "max":
            keys = pk_normed_all
        else:
            if cache.get("src") is not pq:
                cache["src"], cache["keys"] = pq, _normalise(pq, norm)
            keys = cache["keys"]
        if not fuse:
            result = pq[q_idx] @ keys.t()
        else:
            # stage 2 needs stage-1 rows of q and its column-major neighbours, stage 1
            # needs raw rows of those and their raster neighbours
            rows1 = torch.cat([q_idx, nb["c-"][q_idx], nb["c+"][q_idx]])
            rows1 = torch.unique(rows1[rows1 >= 0])
            rows0 = torch.cat([rows1, nb["r-"][rows1], nb["r+"][rows1]])
            rows0 = torch.unique(rows0[rows0 >= 0])
            n = hs * ws
            raw = with_zero_row(rows0.numel(), n, pq)
            torch.mm(pq[rows0], keys.t(), out=raw[:-1])
            stage1 = with_zero_row(rows1.numel(), n, pq)
            stage1[:-1] = _diagonal(rows_of(raw, rows0), rows1, nb["r-"][rows1], nb["r+"][rows1])
            result = _diagonal_cm(rows_of(stage1, rows1), q_idx, nb["c-"][q_idx], nb["c+"][q_idx], ws)
        return result if k_idx is None else result[:, k_idx]

    return scores


def _fuse_full(s: torch.Tensor, hs: int, ws: int) -> torch.Tensor:
    """Diagonal 3-tap sums of a [L, L] score matrix in raster, then column-major order."""
    def diag(m):
        p = F.pad(m, (1, 1, 1, 1))
        return p[:-2, :-2] + p[1:-1, 1:-1] + p[2:, 2:]

    order = torch.arange(hs * ws, device=s.device).view(hs, ws).t().flatten()
    s = diag(diag(s)[order][:, order])
    inverse = torch.empty_like(order)
    inverse[order] = torch.arange(order.numel(), device=s.device)
    return s[inverse][:, inverse]


def _reference(x: torch.Tensor, small: torch.Tensor, valid: torch.Tensor, norm: str, fuse: bool) -> torch.Tensor:
    out = []
    hs, ws = small.shape[-2:]
    for b in range(x.shape[0]):
        patches = F.unfold(small[b:b + 1], 3, padding=1)[0].t()  # [L, C*9]
        scores = patches @ _normalise(patches, norm).t()  # [L queries, L keys]
        if fuse:
            scores = _fuse_full(scores, hs, ws)
        mm = valid[b].to(scores.dtype)[None, :]
        attn = torch.softmax((scores * mm).float() * SCALE, dim=1).to(x.dtype) * mm
        raw = F.unfold(x[b:b + 1], 4, stride=2, padding=1)[0]  # [C*16, L]
        cols = raw @ attn.t()
        out.append(F.fold(cols[None], x.shape[-2:], 4, stride=2, padding=1) / 4.0)
    return torch.cat(out)


def contextual_attention(x: torch.Tensor, hole: torch.Tensor, *, fuse: bool = True, norm: str = "max",
                         reference: bool = False, queries: Optional[torch.Tensor] = None,
                         check: Optional[Callable[[], None]] = None) -> torch.Tensor:
    """DeepFill contextual attention; ``queries`` (B, L) bool overrides ``relevant_queries``."""
    small = x[:, :, ::2, ::2]
    hs, ws = small.shape[-2:]
    valid = valid_keys(hole[:, :, ::8, ::8][:, :, :hs, :ws].float())
    if reference:
        return _reference(x, small, valid, norm, fuse)
    if queries is None:
        queries = relevant_queries(hole)
    scores_fn = _scores_fn(hs, ws, norm, fuse, x.device) if (fuse or norm != "max") else None
    return attend(small, small, x, valid, ksize=3, rate=2, scale=SCALE, queries=queries,
                  scores_fn=scores_fn, check=check)
