"""PEN-Net generator (Zeng et al., CVPR 2019), laid out like the official PyTorch release so
its ``gen_XXXXX.pth`` checkpoints ({'netG': state_dict}) load strictly.

Input: ``cat([image * (1 - m) + m, m])`` with image in [-1, 1] and m = 1 in the hole, plus
the hole mask m itself (1, 1, H, W); H and W multiples of 64. Encoder: six stride-2 3x3 convs
(32, 64, 128, 256, 512, 512 channels). Attention transfer (ATN) from deep to shallow: the
level-l features are rebuilt from 4x4 patches of themselves, weighted by 3x3-patch matching
on the (already filled) level l+1 features (1x1 at the deepest level); only patches entirely
outside the hole are sources. Four dilated 3x3 fuse branches (rates 1, 2, 4, 8) follow each
ATN except the deepest. Decoder: bilinear x2 upsampling + 3x3 convs with skip connections,
1x1 "to RGB" heads per level (the training pyramid) and a final two-conv head at full size.

``attention="fast"`` (default) computes attention with ``engines.attention.attend``. In eval
mode without ``pyramid`` it computes, at the shallowest level, only the queries that can
influence hole pixels of the output, and the last two convs only on the hole's bounding
box: the output inside the hole equals ``attention="reference"`` (the all-pairs
computation) to float rounding, outside it may differ (callers composite). In training
mode or with ``pyramid=True`` (which also returns the pyramid images) everything is
computed and equals the reference everywhere.
"""
from __future__ import annotations

from typing import Callable, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from inpaint_studio.engines import attention as atn

CNUM = 32
RATES = (1, 2, 4, 8)
SCALE = 10.0
CLAMP = 1e-8
# Query margin (matching grid, 1/4 scale) around the hole at the shallowest ATN: the two
# full-size head convs (2 px) and the upsampling reach 2 px of the 1/2-scale map, the
# dilated fuse branches 8 more, and a 4x4 paste at stride 2 spans (10 + 2) / 2 = 6 queries.
# (5 is measurably not enough; tests compare with the all-pairs network.)
LEVEL1_MARGIN = 6


def conv(cin: int, cout: int, k: int = 3, stride: int = 1, act: Optional[nn.Module] = None,
         dilation: int = 1) -> nn.Sequential:
    """Conv2d ('same'-style padding) followed by an activation, as a 2-item Sequential."""
    pad = dilation * (k // 2)
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, pad, dilation=dilation), act or nn.ReLU())


class Fuse(nn.Module):
    """The four dilated 3x3 branches after an ATN (keys conv00..conv03), concatenated."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        for i, rate in enumerate(RATES):
            self.add_module(f"conv{i:02d}", conv(channels, channels // len(RATES), dilation=rate))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([branch(x) for branch in self.children()], dim=1)


class PenNetGenerator(nn.Module):
    """The generator; ``forward(x, mask)`` -> output (and the pyramid if ``pyramid=True``)."""

    def __init__(self, attention: str = "fast") -> None:
        super().__init__()
        c = CNUM
        self.attention = attention
        lrelu = lambda: nn.LeakyReLU(0.2)  # noqa: E731
        self.dw_conv01 = conv(4, c, stride=2, act=lrelu())
        self.dw_conv02 = conv(c, 2 * c, stride=2, act=lrelu())
        self.dw_conv03 = conv(2 * c, 4 * c, stride=2, act=lrelu())
        self.dw_conv04 = conv(4 * c, 8 * c, stride=2, act=lrelu())
        self.dw_conv05 = conv(8 * c, 16 * c, stride=2, act=lrelu())
        self.dw_conv06 = conv(16 * c, 16 * c, stride=2)
        self.at_conv04 = Fuse(8 * c)
        self.at_conv03 = Fuse(4 * c)
        self.at_conv02 = Fuse(2 * c)
        self.at_conv01 = Fuse(c)
        self.up_conv05 = conv(16 * c, 16 * c)
        self.up_conv04 = conv(32 * c, 8 * c)
        self.up_conv03 = conv(16 * c, 4 * c)
        self.up_conv02 = conv(8 * c, 2 * c)
        self.up_conv01 = conv(4 * c, c)
        for level, cin in zip((5, 4, 3, 2, 1), (32 * c, 16 * c, 8 * c, 4 * c, 2 * c)):
            self.add_module(f"torgb{level}", conv(cin, 3, k=1, act=nn.Tanh()))
        self.decoder = nn.Sequential(nn.Conv2d(2 * c, c, 3, padding=1), nn.ReLU(),
                                     nn.Conv2d(c, 3, 3, padding=1), nn.Tanh())

    def atn(self, low: torch.Tensor, high: torch.Tensor, mask: torch.Tensor, ksize: int,
            queries: Optional[torch.Tensor] = None, check: Optional[Callable[[], None]] = None):
        """Rebuild ``low`` from its own 4x4 patches, matched on ``high`` (half the size)."""
        small = F.interpolate(mask, size=high.shape[2:], mode="bilinear", align_corners=True)
        valid = atn.valid_keys(small, ksize)
        if self.attention == "reference":
            return atn.attend_reference(high, high, low, valid, ksize=ksize, scale=SCALE, clamp=CLAMP)
        return atn.attend(high, high, low, valid, ksize=ksize, scale=SCALE, clamp=CLAMP,
                          queries=queries, check=check)

    def level1_queries(self, mask: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
        """Matching-grid positions whose attention can reach a hole pixel of the output."""
        factor = mask.shape[2] // grid[0]
        near = F.max_pool2d(mask, factor, stride=factor)
        near = F.max_pool2d(near, 2 * LEVEL1_MARGIN + 1, stride=1, padding=LEVEL1_MARGIN)
        return (near > 0).flatten(1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, pyramid: bool = False,
                check: Optional[Callable[[], None]] = None):
        check = check or (lambda: None)
        up = lambda t: F.interpolate(t, scale_factor=2, mode="bilinear", align_corners=True)  # noqa: E731
        x1 = self.dw_conv01(x)
        x2 = self.dw_conv02(x1)
        x3 = self.dw_conv03(x2)
        x4 = self.dw_conv04(x3)
        x5 = self.dw_conv05(x4)
        x6 = self.dw_conv06(x5)
        x5 = self.atn(x5, x6, mask, ksize=1)
        x4 = self.at_conv04(self.atn(x4, x5, mask, 3, check=check))
        check()
        x3 = self.at_conv03(self.atn(x3, x4, mask, 3, check=check))
        check()
        x2 = self.at_conv02(self.atn(x2, x3, mask, 3, check=check))
        check()
        everything = pyramid or self.training  # then equal to the reference everywhere
        queries = None if everything else self.level1_queries(mask, x2.shape[2:])
        x1 = self.at_conv01(self.atn(x1, x2, mask, 3, queries=queries, check=check))
        check()
        upx5 = self.up_conv05(up(x6))
        skip5 = torch.cat([upx5, x5], dim=1)
        upx4 = self.up_conv04(up(skip5))
        skip4 = torch.cat([upx4, x4], dim=1)
        upx3 = self.up_conv03(up(skip4))
        skip3 = torch.cat([upx3, x3], dim=1)
        upx2 = self.up_conv02(up(skip3))
        skip2 = torch.cat([upx2, x2], dim=1)
        upx1 = self.up_conv01(up(skip2))
        skip1 = torch.cat([upx1, x1], dim=1)
        if everything or self.attention != "fast":
            output = self.decoder(up(skip1))
        else:
            output = self.decode_hole_box(up(skip1), mask)
        if not pyramid:
            return output
        heads = (self.torgb1, self.torgb2, self.torgb3, self.torgb4, self.torgb5)
        images = [head(s) for head, s in zip(heads, (skip1, skip2, skip3, skip4, skip5))]
        return images, output

    def decode_hole_box(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The final two convs on the hole's bounding box only (+2 px they reach); exact
        there, 0 elsewhere."""
        out = features.new_zeros(features.shape[0], 3, *features.shape[2:])
        rows = torch.nonzero(mask.amax(dim=(0, 1, 3)) > 0).flatten()
        cols = torch.nonzero(mask.amax(dim=(0, 1, 2)) > 0).flatten()
        if rows.numel() == 0:
            return out
        h, w = features.shape[2:]
        y0, y1, x0, x1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
        cy0, cy1, cx0, cx1 = max(y0 - 2, 0), min(y1 + 2, h), max(x0 - 2, 0), min(x1 + 2, w)
        part = self.decoder(features[:, :, cy0:cy1, cx0:cx1])
        out[:, :, y0:y1, x0:x1] = part[:, :, y0 - cy0:y1 - cy0, x0 - cx0:x1 - cx0]
        return out


def network_input(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """[image * (1 - m) + m, m]: the official preprocessing (image in [-1, 1], m = 1 in hole)."""
    return torch.cat([image * (1 - mask) + mask, mask], dim=1)
