"""DeepFill v2 generator (Yu et al., ICCV 2019): gated convolutions, coarse + refine.

Input ``[image*(1-m), ones, m]`` (5 channels; the sketch variant adds ``sketch*m`` as a
6th), image in [-1, 1], m = 1 in the hole. A gated conv is one convolution with 2x the
output channels, split into feature and gate: ELU(feature) * sigmoid(gate) (ReLU for
pmconv6; the to-RGB convs are plain). Both stages: 5x5 conv, two stride-2 levels,
dilated 3x3 convs (rates 2, 4, 8, 16), nearest x2 upsampling + conv, tanh. The refine
stage pastes the coarse result into the hole and runs two branches at 1/4 resolution:
dilated convs and contextual attention; their concatenation is decoded to RGB.

Our module names are those of the TF-converted checkpoint (``conv1`` ... ``allconv17``);
``PT_NAMES`` maps the PyTorch-native layout (``stage1.*``/``stage2.*``) onto them. The two
public layouts differ in padding: TF "SAME" pads stride-2 convs only at the bottom/right,
the PyTorch one pads 1 on every side. Input sides must be multiples of 8.

In eval mode (inference) only what the hole needs is computed: the attention answers only
queries that can reach a hole pixel, and every layer after the last stride-2 conv runs on
the window of its map that the hole's bounding box depends on; outputs are exact inside
that box and 0 outside. In training mode, or with ``attention = "reference"``, everything
is computed.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from inpaint_studio.engines.gated.attention import contextual_attention

CNUM = 48
PAD_MULTIPLE = 8


class GatedConv(nn.Module):
    def __init__(self, cin: int, cout: int, k: int = 3, stride: int = 1, dilation: int = 1,
                 act: str = "elu", tf_pad: bool = False) -> None:
        super().__init__()
        self.gated = act != "none"
        self.act = act
        self.stride, self.k, self.dilation = stride, k, dilation
        self.tf_pad = tf_pad and stride > 1  # stride-1 TF SAME padding is symmetric anyway
        pad = 0 if self.tf_pad else dilation * (k - 1) // 2
        self.conv = nn.Conv2d(cin, 2 * cout if self.gated else cout, k, stride, pad, dilation)

    @property
    def radius(self) -> int:
        return self.dilation * (self.k - 1) // 2

    def forward(self, x: torch.Tensor, pads: tuple | None = None) -> torch.Tensor:
        """``pads`` (left, right, top, bottom): zero padding to use instead of the usual
        (stride-1 convs on a window of the feature map, see ``_windowed``)."""
        padding = self.conv.padding
        if pads is not None:
            x, padding = F.pad(x, pads), 0
        elif self.tf_pad:
            total = [max((-(-size // self.stride) - 1) * self.stride + self.k - size, 0) for size in x.shape[-2:]]
            x = F.pad(x, (total[1] // 2, total[1] - total[1] // 2, total[0] // 2, total[0] - total[0] // 2))
        weight, bias = self.conv.weight, self.conv.bias

        def conv(w, b):
            return F.conv2d(x, w, b, self.stride, padding, self.dilation)

        if not self.gated:
            return conv(weight, bias)
        half = weight.shape[0] // 2
        if torch.is_grad_enabled():
            feature, gate = conv(weight, bias).chunk(2, dim=1)
            feature = F.elu(feature) if self.act == "elu" else F.relu(feature)
            return feature * torch.sigmoid(gate)
        # inference: two half convs give contiguous outputs (fast elementwise ops in
        # channels_last), and the gating runs in place; same numbers
        feature, gate = conv(weight[:half], bias[:half]), conv(weight[half:], bias[half:])
        feature = F.elu_(feature) if self.act == "elu" else F.relu_(feature)
        return feature.mul_(torch.sigmoid_(gate))


class GatedUp(nn.Module):
    """Nearest x2 upsampling, then a gated 3x3 conv."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = GatedConv(cin, cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


class DeepFillV2(nn.Module):
    """Returns (coarse, refined), both (B, 3, H, W) in [-1, 1]."""

    def __init__(self, in_channels: int = 5, cnum: int = CNUM, tf_padding: bool = False,
                 norm: str = "max", fuse: bool = True) -> None:
        super().__init__()
        c, tf = cnum, tf_padding
        self.in_channels = in_channels
        self.norm, self.fuse = norm, fuse  # contextual attention options, see attention.py
        self.attention = "fast"  # or "reference" (all pairs)
        self.check = None  # optional callable raising Cancelled, called between attention chunks

        def g(name: str, cin: int, cout: int, k: int = 3, stride: int = 1, dilation: int = 1, act: str = "elu"):
            setattr(self, name, GatedConv(cin, cout, k, stride, dilation, act, tf))

        # coarse stage
        g("conv1", in_channels, c // 2, 5)
        g("conv2_downsample", c // 2, c, stride=2)
        g("conv3", c, c)
        g("conv4_downsample", c, 2 * c, stride=2)
        g("conv5", 2 * c, 2 * c)
        g("conv6", 2 * c, 2 * c)
        for rate, name in ((2, "conv7_atrous"), (4, "conv8_atrous"), (8, "conv9_atrous"), (16, "conv10_atrous")):
            g(name, 2 * c, 2 * c, dilation=rate)
        g("conv11", 2 * c, 2 * c)
        g("conv12", 2 * c, 2 * c)
        self.conv13_upsample = GatedUp(2 * c, c)
        g("conv14", c, c)
        self.conv15_upsample = GatedUp(c, c // 2)
        g("conv16", c // 2, c // 4)
        g("conv17", c // 4, 3, act="none")
        # refine stage, dilated branch
        g("xconv1", 3, c // 2, 5)
        g("xconv2_downsample", c // 2, c // 2, stride=2)
        g("xconv3", c // 2, c)
        g("xconv4_downsample", c, c, stride=2)
        g("xconv5", c, 2 * c)
        g("xconv6", 2 * c, 2 * c)
        for rate, name in ((2, "xconv7_atrous"), (4, "xconv8_atrous"), (8, "xconv9_atrous"), (16, "xconv10_atrous")):
            g(name, 2 * c, 2 * c, dilation=rate)
        # refine stage, attention branch
        g("pmconv1", 3, c // 2, 5)
        g("pmconv2_downsample", c // 2, c // 2, stride=2)
        g("pmconv3", c // 2, c)
        g("pmconv4_downsample", c, 2 * c, stride=2)
        g("pmconv5", 2 * c, 2 * c)
        g("pmconv6", 2 * c, 2 * c, act="relu")
        g("pmconv9", 2 * c, 2 * c)
        g("pmconv10", 2 * c, 2 * c)
        # refine stage, merged
        g("allconv11", 4 * c, 2 * c)
        g("allconv12", 2 * c, 2 * c)
        self.allconv13_upsample = GatedUp(2 * c, c)
        g("allconv14", c, c)
        self.allconv15_upsample = GatedUp(c, c // 2)
        g("allconv16", c // 2, c // 4)
        g("allconv17", c // 4, 3, act="none")
        self.to(memory_format=torch.channels_last)  # faster convs (oneDNN, cuDNN); same state_dict

    def _run(self, names: list[str], x: torch.Tensor) -> torch.Tensor:
        for name in names:
            x = getattr(self, name)(x)
        return x

    def _plan(self, names: list[str], size, box: tuple) -> tuple[list, list]:
        """For stride-1 layers ``names`` (gated convs, upsampling blocks) on a (H, W) = ``size``
        input: the ops (None = x2 upsampling) and the window (y0, y1, x0, x1) each op reads,
        so that the last op yields exactly the output window ``box``; wins[-1] = box."""
        ops = []
        for name in names:
            module = getattr(self, name)
            ops += [None, module.conv] if isinstance(module, GatedUp) else [module]
        grid = list(size)
        for op in ops:
            grid = [2 * v for v in grid] if op is None else grid
        wins = [tuple(box)]
        for op in reversed(ops):
            y0, y1, x0, x1 = wins[-1]
            if op is None:
                grid = [v // 2 for v in grid]
                wins.append((y0 // 2, -(-y1 // 2), x0 // 2, -(-x1 // 2)))
            else:
                r = op.radius
                wins.append((max(y0 - r, 0), min(y1 + r, grid[0]), max(x0 - r, 0), min(x1 + r, grid[1])))
        return ops, wins[::-1]

    def _windowed(self, names: list[str], x: torch.Tensor, box: tuple, size=None) -> torch.Tensor:
        """Output window ``box`` of layers ``names`` applied to a map of ``size`` (default
        x's), computing only what it depends on. ``x`` is the whole map, or (with ``size``)
        already just the window ``_plan`` says the first layer reads."""
        grid = list(size or x.shape[-2:])
        ops, wins = self._plan(names, grid, box)
        if size is None:
            y0, y1, x0, x1 = wins[0]
            x = x[..., y0:y1, x0:x1]
        for op, (iy0, iy1, ix0, ix1), (oy0, oy1, ox0, ox1) in zip(ops, wins, wins[1:]):
            if op is None:
                grid = [2 * v for v in grid]
                x = F.interpolate(x, scale_factor=2, mode="nearest")
                x = x[..., oy0 - 2 * iy0:oy1 - 2 * iy0, ox0 - 2 * ix0:ox1 - 2 * ix0]
            else:
                r = op.radius
                x = op(x, (max(r - ox0, 0), max(ox1 + r - grid[1], 0), max(r - oy0, 0), max(oy1 + r - grid[0], 0)))
        return x

    def forward(self, image: torch.Tensor, mask: torch.Tensor, sketch: torch.Tensor | None = None):
        """image (B, 3, H, W) in [-1, 1]; mask (B, 1, H, W), 1 = hole; sketch (B, 1, H, W) or None."""
        h, w = image.shape[-2:]
        if h % PAD_MULTIPLE or w % PAD_MULTIPLE:
            raise ValueError(f"DeepFill v2 needs sides that are multiples of {PAD_MULTIPLE}, got {w}x{h}")
        known = image * (1 - mask)
        parts = [known, torch.ones_like(mask), mask]
        if self.in_channels == 6:
            parts.append((sketch if sketch is not None else torch.zeros_like(mask)) * mask)
        x = torch.cat(parts, 1).contiguous(memory_format=torch.channels_last)  # faster convs (oneDNN, cuDNN)
        x = self._run(["conv1", "conv2_downsample", "conv3", "conv4_downsample"], x)
        # from here on every layer is stride 1 (or x2 upsampling): in eval mode only the hole's
        # bounding box of the output is computed, with each layer on the window it needs
        tail1 = ["conv5", "conv6", "conv7_atrous", "conv8_atrous", "conv9_atrous", "conv10_atrous", "conv11",
                 "conv12", "conv13_upsample", "conv14", "conv15_upsample", "conv16", "conv17"]
        hallu_names = ["xconv5", "xconv6", "xconv7_atrous", "xconv8_atrous", "xconv9_atrous", "xconv10_atrous"]
        tail2 = ["allconv11", "allconv12", "allconv13_upsample", "allconv14", "allconv15_upsample",
                 "allconv16", "allconv17"]
        box = self._hole_box(mask)
        if box is None:  # everything, exactly (training, reference, or a hole-free batch)
            coarse = torch.tanh(self._run(tail1, x))
        else:
            y0, y1, x0, x1 = box
            coarse = torch.zeros_like(image)
            coarse[..., y0:y1, x0:x1] = torch.tanh(self._windowed(tail1, x, box))
        x = (coarse * mask + known).contiguous(memory_format=torch.channels_last)
        hallu = self._run(["xconv1", "xconv2_downsample", "xconv3", "xconv4_downsample"], x)
        pm = self._run(["pmconv1", "pmconv2_downsample", "pmconv3", "pmconv4_downsample", "pmconv5", "pmconv6"], x)
        everything = torch.ones(pm.shape[0], (pm.shape[2] // 2) * (pm.shape[3] // 2), dtype=torch.bool,
                                device=pm.device) if box is None else None
        reference = self.attention == "reference" or torch.is_grad_enabled()  # all pairs is differentiable
        pm = contextual_attention(pm, mask, fuse=self.fuse, norm=self.norm, queries=everything,
                                  reference=reference, check=self.check)
        if box is None:
            hallu = self._run(hallu_names, hallu)
            out = self._run(tail2, torch.cat([hallu, self._run(["pmconv9", "pmconv10"], pm)], 1))
            return coarse, torch.tanh(out)
        size = pm.shape[-2:]
        window = self._plan(tail2, size, box)[1][0]
        merged = torch.cat([self._windowed(hallu_names, hallu, window),
                            self._windowed(["pmconv9", "pmconv10"], pm, window)], 1)
        refined = torch.zeros_like(image)
        refined[..., y0:y1, x0:x1] = torch.tanh(self._windowed(tail2, merged, box, size))
        return coarse, refined

    def _hole_box(self, mask: torch.Tensor) -> tuple | None:
        """Bounding box (y0, y1, x0, x1) of the hole over the batch, or None when the full
        output is wanted (training mode, reference attention, no hole)."""
        if self.training or self.attention == "reference":
            return None
        rows = torch.nonzero(mask.amax(dim=(0, 1, 3)) > 0).flatten()
        cols = torch.nonzero(mask.amax(dim=(0, 1, 2)) > 0).flatten()
        if rows.numel() == 0:
            return None
        return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


LAYOUTS = {  # layout -> network options
    "deepfill2-tf": dict(in_channels=5, tf_padding=True, norm="max"),
    "deepfill2-pt": dict(in_channels=5, tf_padding=False, norm="escape"),
    "gated-sketch": dict(in_channels=6, tf_padding=False, norm="max"),
}


def build(layout: str) -> DeepFillV2:
    return DeepFillV2(**LAYOUTS[layout])


# PyTorch-native layout (states_pt_*.pth) -> ours, by module prefix.
_PT_BLOCKS = [
    ("stage1.", [
        ("conv1", "conv1"),
        ("down_block1.conv1_downsample", "conv2_downsample"), ("down_block1.conv2", "conv3"),
        ("down_block2.conv1_downsample", "conv4_downsample"), ("down_block2.conv2", "conv5"),
        ("conv_bn1", "conv6"), ("conv_bn2", "conv7_atrous"), ("conv_bn3", "conv8_atrous"),
        ("conv_bn4", "conv9_atrous"), ("conv_bn5", "conv10_atrous"), ("conv_bn6", "conv11"),
        ("conv_bn7", "conv12"),
        ("up_block1.conv1_upsample", "conv13_upsample"), ("up_block1.conv2", "conv14"),
        ("up_block2.conv1_upsample", "conv15_upsample"), ("up_block2.conv2", "conv16"),
        ("conv_to_rgb", "conv17"),
    ]),
    ("stage2.", [
        ("conv_conv1", "xconv1"),
        ("conv_down_block1.conv1_downsample", "xconv2_downsample"), ("conv_down_block1.conv2", "xconv3"),
        ("conv_down_block2.conv1_downsample", "xconv4_downsample"), ("conv_down_block2.conv2", "xconv5"),
        ("conv_conv_bn1", "xconv6"), ("conv_conv_bn2", "xconv7_atrous"), ("conv_conv_bn3", "xconv8_atrous"),
        ("conv_conv_bn4", "xconv9_atrous"), ("conv_conv_bn5", "xconv10_atrous"),
        ("ca_conv1", "pmconv1"),
        ("ca_down_block1.conv1_downsample", "pmconv2_downsample"), ("ca_down_block1.conv2", "pmconv3"),
        ("ca_down_block2.conv1_downsample", "pmconv4_downsample"), ("ca_down_block2.conv2", "pmconv5"),
        ("ca_conv_bn1", "pmconv6"), ("ca_conv_bn4", "pmconv9"), ("ca_conv_bn5", "pmconv10"),
        ("conv_bn6", "allconv11"), ("conv_bn7", "allconv12"),
        ("up_block1.conv1_upsample", "allconv13_upsample"), ("up_block1.conv2", "allconv14"),
        ("up_block2.conv1_upsample", "allconv15_upsample"), ("up_block2.conv2", "allconv16"),
        ("conv_to_rgb", "allconv17"),
    ]),
]
PT_NAMES = {stage + pt: ours for stage, pairs in _PT_BLOCKS for pt, ours in pairs}
PT_BUFFERS = ("stage2.contextual_attention.fuse_weight",)


def pt_key_to_ours(key: str) -> str | None:
    """Map a states_pt_* key to ours (None for the constant fuse buffer or unknown keys)."""
    if key in PT_BUFFERS:
        return None
    module, _, rest = key.rpartition(".conv.")
    if module.endswith(".conv"):  # upsample blocks: <module>.conv.conv.weight
        module, rest = module[:-5], "conv." + rest
    ours = PT_NAMES.get(module)
    return f"{ours}.conv.{rest}" if ours else None
