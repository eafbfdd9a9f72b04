"""Edits and variations with a diffusers model: image-to-image and inpainting over one set of weights.

The derived pipelines are made with diffusers' `from_pipe`, which hands the loaded modules (UNet,
VAE, text encoders, scheduler config) to the new pipeline object instead of loading them again, so
an engine that edits holds its weights once. They are made on first use and kept.

Conventions translated here:

- The API's mask marks the area to edit with transparency (alpha 0); diffusers' inpainting wants a
  white-on-black mask where white is repainted. `ImageRequest.edit_region()` gives exactly that.
- A model redraws the whole frame through its VAE, which shifts every pixel a little; the pixels
  outside the mask are therefore put back from the input after inpainting, so what the user
  masked off is what they get back.
- img2img runs `strength x num_inference_steps` denoising steps. Turbo models run 1 to 4 steps;
  asking for `ceil(steps / strength)` keeps the number of steps actually run equal to the
  deployment's `steps` whatever the strength.
"""

from __future__ import annotations

import math
from typing import Any

from PIL import Image, ImageChops, ImageFilter, ImageOps

from gouache.engines.base import ImageRequest, decode_input
from gouache.errors import InvalidRequest

KINDS = ("generate", "img2img", "inpaint")
# Defaults when the request gives no strength: a masked area is redrawn from noise; an unmasked
# edit keeps the input's layout; a variation keeps its composition, changes its details.
DEFAULT_STRENGTH = {"inpaint": 1.0, "img2img": 0.75, "variation": 0.6}


def kind_of(request: ImageRequest) -> str:
    """Which pipeline draws this request."""
    if request.operation == "generate":
        return "generate"
    if request.operation == "edit" and request.mask is not None:
        return "inpaint"
    return "img2img"


def strength_of(request: ImageRequest) -> float | None:
    if request.operation == "generate":
        return None
    if request.strength is not None:
        return request.strength
    return DEFAULT_STRENGTH["variation" if request.operation == "variation" else kind_of(request)]


def pipeline_steps(steps: int, strength: float | None) -> int:
    """`num_inference_steps` to ask for, so that `steps` denoising steps actually run."""
    if strength is None:
        return steps
    return max(steps, math.ceil(steps / strength - 1e-9))


def derive(pipeline: Any, kind: str) -> Any:
    """An image-to-image or inpainting pipeline sharing `pipeline`'s loaded modules."""
    from diffusers import AutoPipelineForImage2Image, AutoPipelineForInpainting

    auto = AutoPipelineForImage2Image if kind == "img2img" else AutoPipelineForInpainting
    try:
        derived = auto.from_pipe(pipeline)
    except Exception as exc:
        raise InvalidRequest(
            f"this deployment's model ({type(pipeline).__name__}) has no "
            f"{'image-to-image' if kind == 'img2img' else 'inpainting'} pipeline in diffusers "
            f"({exc}); send edits to a Stable Diffusion family deployment",
            param="image",
        ) from exc
    derived.set_progress_bar_config(disable=True)
    return derived


def check_inputs(request: ImageRequest) -> None:
    """What a diffusion edit cannot do, refused before any work."""
    if request.operation == "edit" and len(request.images) > 1:
        raise InvalidRequest(
            f"this deployment's diffusion model edits one image at a time; got "
            f"{len(request.images)} images. Send one image (and an optional mask), or use a "
            "deployment with the builtin engine, which arranges several images together",
            param="image",
        )


def prepared(request: ImageRequest) -> tuple[Image.Image, Image.Image | None]:
    """The input image (RGB) and the repaint mask (L, white = repaint), at the output size.

    A different output size is reached by scaling and centre-cropping (as the edit's `size` asks);
    the mask goes through the very same transform, so it still covers the same content.
    """
    picture = decode_input(request.images[0], "image 0")
    region = request.edit_region(picture)
    size = (request.width, request.height)
    if picture.mode in ("RGBA", "LA", "P"):
        # Transparent input pixels have no colour to start from: put them on grey.
        rgba = picture.convert("RGBA")
        flat = Image.new("RGBA", rgba.size, (128, 128, 128, 255))
        flat.alpha_composite(rgba)
        picture = flat
    picture = picture.convert("RGB")
    if picture.size != size:
        picture = ImageOps.fit(picture, size, Image.Resampling.LANCZOS)
        if region is not None:
            region = ImageOps.fit(region, size, Image.Resampling.NEAREST)
    return picture, region


def keep_outside(generated: Image.Image, original: Image.Image, region: Image.Image) -> Image.Image:
    """The generated picture inside the region (feathered inward from its edge), the input
    exactly outside it."""
    radius = max(1.0, min(original.size) / 128)
    feather = ImageChops.multiply(region.filter(ImageFilter.GaussianBlur(radius)), region)
    return Image.composite(generated.convert("RGB"), original, feather)
