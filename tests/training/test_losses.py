"""The edge (pixel-difference) loss used by ``train --grad-weight``."""
import torch

from inpaint_studio.training.losses import gradient_l1


def step_edge(sharp: bool) -> torch.Tensor:
    x = torch.linspace(-1, 1, 32)
    row = torch.where(x > 0, 1.0, -1.0) if sharp else x.clamp(-1, 1)
    return row.expand(1, 3, 32, 32).clone()


def test_gradient_l1_sees_blurred_edges_not_colour_offsets():
    hole = torch.ones(1, 1, 32, 32)
    truth = step_edge(sharp=True)
    assert float(gradient_l1(truth, truth, hole)) == 0.0
    assert float(gradient_l1(truth + 0.3, truth, hole)) < 1e-6  # a uniform cast has the same edges
    blurred = float(gradient_l1(step_edge(sharp=False), truth, hole))
    # the sharp step is 2 across one column of 31 differences; the ramp spreads it out
    assert 0.02 < blurred < 0.1


def test_gradient_l1_counts_only_differences_inside_the_hole():
    truth = step_edge(sharp=True)
    blurred = step_edge(sharp=False)
    hole = torch.zeros(1, 1, 32, 32)
    hole[..., :, :8] = 1  # far from the edge: the ramp is smooth there as in the truth
    left = float(gradient_l1(blurred, truth, hole))
    hole[..., :, 12:20] = 1  # now the edge is in the hole
    both = float(gradient_l1(blurred, truth, hole))
    assert both > 2 * left
    noise = truth.clone()
    noise[..., :, 24:] += torch.randn(1, 3, 32, 8)
    hole.zero_()
    hole[..., :, :20] = 1
    assert float(gradient_l1(noise, truth, hole)) == 0.0  # changes outside the hole do not count
    assert float(gradient_l1(truth, truth, torch.zeros(1, 1, 32, 32))) == 0.0  # empty hole: 0, no NaN
