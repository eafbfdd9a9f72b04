"""Image encoding shared by the engines that draw with Pillow."""

from __future__ import annotations

import io

from PIL import Image

MEDIA_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


def encode_image(
    image: Image.Image, output_format: str = "png", compression: int | None = None
) -> bytes:
    """Encode with settings tuned for speed: these are flat illustrations or model outputs that
    will be downloaded once, so PNG uses a low zlib level and JPEG/WebP map `output_compression`
    (0..100, 100 = best quality, as in the OpenAI API) to Pillow's quality."""
    buffer = io.BytesIO()
    if output_format == "png":
        image.save(buffer, format="PNG", compress_level=1)
    elif output_format in ("jpeg", "webp"):
        quality = 95 if compression is None else max(1, min(100, compression))
        rgb = image.convert("RGB") if output_format == "jpeg" and image.mode != "RGB" else image
        rgb.save(buffer, format=output_format.upper(), quality=quality)
    else:
        raise ValueError(f"unknown output format {output_format!r}")
    return buffer.getvalue()


def media_type(output_format: str) -> str:
    return MEDIA_TYPES[output_format]
