"""Cheap previews of a diffusion model's work in progress: latents to RGB by one linear map.

Decoding intermediate latents with the VAE would cost a full decode per preview. Instead, each
latent pixel is turned into a colour by a fixed linear projection (a matrix of latent channels x
RGB plus a bias), applied at the latents' own resolution and scaled up: a fraction of a millisecond
on a GPU, and no extra weights to download.

The projection is not a table copied for one model family: it is fitted once, by least squares, to
the model's own VAE. A few smooth synthetic pictures are encoded, and the map from their latents
to their colours (averaged over each latent pixel's footprint) is solved for. This works for any
VAE (SD 1.x/2.x, SDXL, 16-channel ones, the tiny random test models), costs one small batch through
the encoder the first time a preview is asked for, and is deterministic.
"""

from __future__ import annotations

from typing import Any

from PIL import Image

# Synthetic pictures used for the fit, and their side in pixels (small: only the colour map is
# being learnt, not detail).
FIT_PICTURES = 24
FIT_SIDE = 64


class LatentPreviewer:
    """Turns a batch of latents from a pipeline step into small RGB pictures."""

    def __init__(self, vae: Any) -> None:
        self.vae = vae
        self._matrix: Any = None  # (channels + 1, 3): weights and bias

    def _fit(self) -> Any:
        import torch
        import torch.nn.functional as F

        vae = self.vae
        generator = torch.Generator("cpu").manual_seed(0)
        # Smooth colour fields: random 4x4 colour grids scaled up, plus flat colours.
        coarse = torch.rand(FIT_PICTURES, 3, 4, 4, generator=generator) * 2 - 1
        pictures = F.interpolate(coarse, size=(FIT_SIDE, FIT_SIDE), mode="bilinear")
        pictures[: FIT_PICTURES // 4] = coarse[: FIT_PICTURES // 4, :, :1, :1].expand(
            -1, -1, FIT_SIDE, FIT_SIDE
        )
        parameter = next(vae.parameters())
        with torch.no_grad():
            encoded = vae.encode(pictures.to(parameter.device, parameter.dtype))
            latents = encoded.latent_dist.mean.float().cpu()
        config = vae.config
        shift = getattr(config, "shift_factor", None) or 0.0
        latents = (latents - shift) * getattr(config, "scaling_factor", 1.0)
        factor = FIT_SIDE // latents.shape[-1]
        colours = F.avg_pool2d(pictures, factor)
        x = latents.permute(0, 2, 3, 1).reshape(-1, latents.shape[1])
        x = torch.cat([x, torch.ones(x.shape[0], 1)], dim=1)
        y = colours.permute(0, 2, 3, 1).reshape(-1, 3)
        return torch.linalg.lstsq(x.double(), y.double()).solution.float()

    def project(self, latents: Any, size: tuple[int, int]) -> list[Image.Image]:
        """One picture per row of `latents` (batch, channels, h, w), scaled to `size`."""
        import torch

        if self._matrix is None:
            self._matrix = self._fit()
        matrix = self._matrix.to(latents.device)
        with torch.no_grad():
            rgb = latents.float().permute(0, 2, 3, 1) @ matrix[:-1] + matrix[-1]
            pixels = ((rgb.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu().numpy()
        return [
            Image.fromarray(row, "RGB").resize(size, Image.Resampling.BILINEAR) for row in pixels
        ]
