"""Discriminators and losses from the PEN-Net and DeepFill v2 papers."""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils import spectral_norm


def _sn_conv(cin: int, cout: int, kernel: int, stride: int) -> nn.Module:
    return spectral_norm(nn.Conv2d(cin, cout, kernel, stride, kernel // 2))


class PatchDiscriminator(nn.Module):
    """Spectral-norm PatchGAN (PEN-Net): 4x4 convs, 64..512 channels, one score per patch."""

    def __init__(self, in_channels: int = 3, width: int = 64) -> None:
        super().__init__()
        chans = [in_channels, width, width * 2, width * 4, width * 8]
        layers: list[nn.Module] = []
        for i in range(4):
            layers += [_sn_conv(chans[i], chans[i + 1], 4, 2 if i < 3 else 1), nn.LeakyReLU(0.2, True)]
        layers.append(nn.Conv2d(chans[-1], 1, 4, 1, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, image: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(image)


class SNPatchGAN(nn.Module):
    """DeepFill v2's SN-PatchGAN: 5x5 stride-2 convs on [image, mask(, sketch)]."""

    def __init__(self, in_channels: int = 4, width: int = 64) -> None:
        super().__init__()
        chans = [in_channels, width, width * 2, width * 4, width * 4, width * 4, width * 4]
        layers: list[nn.Module] = []
        for i in range(6):
            layers += [_sn_conv(chans[i], chans[i + 1], 5, 2), nn.LeakyReLU(0.2, True)]
        self.net = nn.Sequential(*layers)

    def forward(self, image: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = image if mask is None else torch.cat([image, mask], 1)
        return self.net(x)


def hinge_d_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    return F.relu(1 - real_scores).mean() + F.relu(1 + fake_scores).mean()


def hinge_g_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    return -fake_scores.mean()


def masked_l1(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Mean L1 over pixels where weight is 1, normalised by the weighted area."""
    diff = (pred - target).abs() * weight
    return diff.sum() / (weight.sum() * pred.shape[1]).clamp_min(1.0)


def gradient_l1(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Mean L1 between the horizontal and vertical pixel differences of ``pred`` and
    ``target`` where ``weight`` is 1 (both pixels of a difference): it rewards edges in the
    right places, which a plain L1 blurs away when it is unsure."""
    total = pred.new_zeros(())
    for dim in (2, 3):
        n = pred.shape[dim] - 1
        d_pred = pred.narrow(dim, 1, n) - pred.narrow(dim, 0, n)
        d_true = target.narrow(dim, 1, n) - target.narrow(dim, 0, n)
        w = weight.narrow(dim, 1, n) * weight.narrow(dim, 0, n)
        total = total + masked_l1(d_pred, d_true, w)
    return total / 2
