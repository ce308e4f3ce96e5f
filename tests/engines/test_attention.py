"""Fast patch attention equals the straightforward all-pairs computation."""
import pytest
import torch
import torch.nn.functional as F

from inpaint_studio.engines import attention as atn


def features(seed, channels=6, h=12, w=10, raw_channels=4, batch=1):
    gen = torch.Generator().manual_seed(seed)
    f = torch.randn(batch, channels, h, w, generator=gen)
    raw = torch.randn(batch, raw_channels, 2 * h, 2 * w, generator=gen)
    return f, raw


def hole(h, w, box, batch=1):
    m = torch.zeros(batch, 1, h, w)
    y0, y1, x0, x1 = box
    m[:, :, y0:y1, x0:x1] = 1.0
    return m


CASES = {
    "middle": (3, 8, 2, 7),
    "border": (0, 5, 0, 10),  # hole touching three edges
    "tiny": (6, 7, 4, 5),  # one pixel
    "everything": (0, 12, 0, 10),  # no known patch at all
    "nothing": (0, 0, 0, 0),  # every patch is a key
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("clamp", [None, 1e-8])
@pytest.mark.parametrize("ksize", [3, 1])
def test_fast_equals_reference(case, clamp, ksize):
    f, raw = features(1)
    valid = atn.valid_keys(hole(12, 10, CASES[case]), ksize)
    ref = atn.attend_reference(f, f, raw, valid, ksize=ksize, clamp=clamp)
    fast = atn.attend(f, f, raw, valid, ksize=ksize, clamp=clamp, max_elems=64)
    assert fast.shape == ref.shape == raw.shape
    torch.testing.assert_close(fast, ref, atol=1e-5, rtol=1e-4)
    if case == "everything" and clamp is None:  # nothing to copy from: zeros, not NaN
        assert torch.count_nonzero(fast) == 0


def test_separate_query_and_key_maps_and_batches():
    f, raw = features(2, batch=2)
    b, _ = features(3, batch=2)
    m = torch.cat([hole(12, 10, (2, 6, 2, 6)), hole(12, 10, (5, 12, 0, 4))])
    valid = atn.valid_keys(m)
    ref = atn.attend_reference(f, b, raw, valid, clamp=1e-8)
    torch.testing.assert_close(atn.attend(f, b, raw, valid, clamp=1e-8), ref, atol=1e-5, rtol=1e-4)


def test_tiling_does_not_change_the_result(monkeypatch):
    f, raw = features(4)
    valid = atn.valid_keys(hole(12, 10, CASES["middle"]))
    ref = atn.attend_reference(f, f, raw, valid, clamp=1e-8)
    for rows in (1, 5, 16):
        monkeypatch.setattr(atn, "TILE_ROWS", rows)
        for max_elems in (1, 5000, 1 << 22):
            fast = atn.attend(f, f, raw, valid, clamp=1e-8, max_elems=max_elems)
            torch.testing.assert_close(fast, ref, atol=1e-5, rtol=1e-4)


def test_query_subset_matches_reference_where_only_those_queries_paste(monkeypatch):
    f, raw = features(5)
    valid = atn.valid_keys(hole(12, 10, CASES["middle"]))
    queries = hole(12, 10, (2, 9, 1, 8)) - hole(12, 10, (2, 5, 5, 8))  # an L shape
    queries = queries.flatten(1) > 0
    ref = atn.attend_reference(f, f, raw, valid, clamp=1e-8)
    # output pixels that receive a paste from any uncomputed query
    skipped = (~queries).float().view(1, 1, 12, 10)
    touched = F.conv_transpose2d(skipped, torch.ones(1, 1, 4, 4), stride=2, padding=1)[0, 0] > 0
    assert (~touched).sum() > 40
    monkeypatch.setattr(atn, "TILE_ROWS", 3)  # tiles with partly needed rows and columns
    for max_elems in (3000, 1 << 22):
        fast = atn.attend(f, f, raw, valid, clamp=1e-8, queries=queries, max_elems=max_elems)
        torch.testing.assert_close(fast[..., ~touched], ref[..., ~touched], atol=1e-5, rtol=1e-4)
        assert not torch.allclose(fast[..., touched], ref[..., touched], atol=1e-3)


def test_valid_keys_are_patches_entirely_outside_the_hole():
    m = hole(6, 7, (2, 3, 3, 4))
    invalid = ~atn.valid_keys(m, 3).view(6, 7)
    assert invalid.sum() == 9 and invalid[1:4, 2:5].all()
    assert (~atn.valid_keys(m, 1)).sum() == 1


def test_scores_hook_and_zero_patch_index():
    f, raw = features(6)
    valid = atn.valid_keys(hole(12, 10, CASES["middle"]))
    calls = []

    def scores(pq, pk, q_idx):
        calls.append(len(q_idx))
        return atn.patch_scores(pq, pk, q_idx, torch.arange(pk.shape[0]))

    hooked = atn.attend(f, f, raw, valid, clamp=1e-8, scores_fn=scores, max_elems=2000)
    torch.testing.assert_close(hooked, atn.attend_reference(f, f, raw, valid, clamp=1e-8), atol=1e-5, rtol=1e-4)
    assert sum(calls) == 120 and len(calls) > 1
    pq = torch.randn(5, 3)
    s = atn.patch_scores(pq, pq, torch.tensor([0, -1]), torch.tensor([-1, 2]))
    assert s[:, 0].eq(0).all() and s[1].eq(0).all() and s[0, 1] == pq[0] @ pq[2]


def test_bfloat16_inputs_stay_close():
    f, raw = features(7, h=8, w=8)
    valid = atn.valid_keys(hole(8, 8, (2, 5, 2, 6)))
    ref = atn.attend_reference(f, f, raw, valid, clamp=1e-8)
    half = atn.attend(f.bfloat16(), f.bfloat16(), raw.bfloat16(), valid, clamp=1e-8)
    assert half.dtype == torch.bfloat16
    assert (half.float() - ref).abs().max() < 0.1 * ref.abs().max()


def test_check_runs_between_tiles_and_can_stop_the_work():
    f, raw = features(8)
    valid = atn.valid_keys(hole(12, 10, CASES["middle"]))
    calls = []
    atn.attend(f, f, raw, valid, max_elems=3000, check=lambda: calls.append(1))
    assert len(calls) == 10  # one tile per column

    def stop():
        raise RuntimeError("cancelled")

    with pytest.raises(RuntimeError, match="cancelled"):
        atn.attend(f, f, raw, valid, check=stop)
