"""PenNetEngine: PEN-Net fills at 256x256 (the official training size)."""
from __future__ import annotations

from typing import Any, Mapping

from inpaint_studio.core.errors import UserError
from inpaint_studio.engines.learned import LearnedEngine, match_state_dict, shapes_of
from inpaint_studio.engines.pennet.network import PenNetGenerator, network_input
from inpaint_studio.engines.registry import get_info

LAYOUT = "pennet-official"


class PenNetEngine(LearnedEngine):
    info = get_info("pennet")

    def build_network(self) -> PenNetGenerator:
        return PenNetGenerator()

    def run_network(self, net, image, hole, sketch, params, check):
        h, w = image.shape[2:]
        if h % 64 or w % 64:
            raise UserError(f"PEN-Net needs a size that is a multiple of 64, got {w}x{h}")
        return net(network_input(image, hole), hole, check=check)

    @staticmethod
    def convert_checkpoint(checkpoint: Mapping[str, Any]) -> tuple[dict, str]:
        """Official ``gen_XXXXX.pth`` ({'netG': state_dict}), a bare state_dict or our own
        file (a training export) -> ours."""
        from inpaint_studio.engines.weights import FORMAT

        if not isinstance(checkpoint, Mapping):
            raise UserError("not a PEN-Net checkpoint (expected a dict with 'netG')")
        if checkpoint.get("format") == FORMAT:
            if checkpoint.get("engine") != "pennet" or checkpoint.get("layout") != LAYOUT:
                raise UserError(f"this Inpaint Studio file holds {checkpoint.get('engine')}/"
                                f"{checkpoint.get('layout')} weights, not PEN-Net")
            state = checkpoint["state_dict"]
        else:
            state = checkpoint.get("netG", checkpoint)
        if isinstance(state, Mapping):  # checkpoints saved from DataParallel prefix 'module.'
            state = {k[7:] if k.startswith("module.") else k: v for k, v in state.items()}
        return match_state_dict(state, shapes_of(PenNetGenerator()), "PEN-Net checkpoint"), LAYOUT
