"""GatedEngine: DeepFill v2 (gated convolution + contextual attention) at 512 px.

Weights, first installed wins: our sketch-guided ``gated-sketch-ours`` (6 input channels,
uses the sketch layer), then the public Places2 weights converted from TensorFlow
(``deepfill2-places2-tf``) or fine-tuned in PyTorch (``deepfill2-places2-pt``); the public
ones ignore the sketch. Native size 512: the public model was trained on 256 px crops but
is fully convolutional and its official demos run on ~512x680 photos; at 512 the dilated
branch still sees the whole crop (receptive field ~ 250 px each side), and the pipeline has
to shrink less of a large photo's context.
"""
from __future__ import annotations

from typing import Any, Mapping

from inpaint_studio.core import raster
from inpaint_studio.core.errors import UserError
from inpaint_studio.engines import weights
from inpaint_studio.engines.base import check_inputs
from inpaint_studio.engines.gated.network import LAYOUTS, PT_BUFFERS, build, pt_key_to_ours
from inpaint_studio.engines.learned import LearnedEngine, match_state_dict, shapes_of
from inpaint_studio.engines.registry import get_info


class GatedEngine(LearnedEngine):
    info = get_info("gated")
    layout = "deepfill2-tf"

    def load(self) -> None:
        if self.net is None:  # the network's options follow the layout of the entry loaded
            for name in self.info.weights:
                if not weights.missing_reason(name):
                    self.layout = weights.get_entry(name).layout
                    break
        super().load()

    def fill(self, image, hole, sketch=None, params=None, **kwargs):
        # Our sketch weights learn from one-pixel edge maps; the pen draws lines 4 px wide or
        # more (and a crop may be enlarged), so each line is thinned to its centre first.
        check_inputs(image, hole, sketch, kwargs.get("avoid"))
        if sketch is not None:
            sketch = raster.thin_lines(sketch)
        return super().fill(image, hole, sketch, params, **kwargs)

    def build_network(self):
        return build(self.layout)

    def run_network(self, net, image, hole, sketch, params, check):
        net.check = check
        try:
            return net(image, hole, sketch if net.in_channels == 6 else None)[1]
        finally:
            net.check = None

    @staticmethod
    def convert_checkpoint(checkpoint: Any) -> tuple[dict, str]:
        """Public ``{'G': state_dict}`` (TF-converted or PyTorch layout), a bare generator
        state_dict, or our own file -> (state_dict in our layout, layout)."""
        if not isinstance(checkpoint, Mapping):
            raise UserError("not a DeepFill v2 checkpoint: expected a dict with 'G', "
                            f"found {type(checkpoint).__name__}")
        if checkpoint.get("format") == weights.FORMAT:
            layout = checkpoint.get("layout")
            if checkpoint.get("engine") != "gated" or layout not in LAYOUTS:
                raise UserError(f"this Inpaint Studio file holds {checkpoint.get('engine')}/{layout} weights, "
                                f"not gated convolution")
            state = checkpoint["state_dict"]
        else:
            if "netG" in checkpoint:
                raise UserError("this is a PEN-Net checkpoint ({'netG': ...}); import it with --engine pennet")
            state = checkpoint.get("G", checkpoint)
            if not isinstance(state, Mapping):
                raise UserError("not a DeepFill v2 checkpoint: 'G' is not a state_dict")
            state = {k[7:] if k.startswith("module.") else k: v for k, v in state.items()}
            if any(k.startswith("stage1.") or k.startswith("stage2.") for k in state):
                state = {pt_key_to_ours(k) or k: v for k, v in state.items() if k not in PT_BUFFERS}
                layout = "deepfill2-pt"
            else:
                layout = "deepfill2-tf"
            first = state.get("conv1.conv.weight")
            if getattr(first, "ndim", 0) == 4 and first.shape[1] == 6:
                layout = "gated-sketch"
        kind = "sketch-guided gated-convolution" if layout == "gated-sketch" else "DeepFill v2"
        what = f"not a {kind} generator ({layout} layout): the checkpoint"
        return match_state_dict(state, shapes_of(build(layout)), what), layout
