"""Cutting a subject out of its picture, for the built-in engine's product shots and variations.

A product photo on a studio backdrop (white, or any flat colour surrounding the subject on all
four sides) or on transparency is separated from it; anything else is reported as not separable,
so the caller can keep the picture whole instead of cutting a scene apart.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

# How far (0..255 per channel, Euclidean) a pixel may be from the background colour to count as
# background when cutting a subject out of a plain backdrop.
BACKGROUND_TOLERANCE = 48.0
# The share of each edge's pixels that must be near one colour for the backdrop to count as
# plain: a studio backdrop surrounds the subject, a landscape's sky only tops it.
PLAIN_BORDER_SHARE = 0.7


def has_alpha(picture: Image.Image) -> bool:
    return "A" in picture.getbands() or "transparency" in picture.info


def at_most(picture: Image.Image, side: int) -> Image.Image:
    """The picture reduced so its longer side is at most `side`: a subject never fills more than
    the frame, and cutting a 12-megapixel photo out at full size would cost seconds."""
    if max(picture.size) <= side:
        return picture
    if picture.mode not in ("RGB", "RGBA"):
        picture = picture.convert("RGBA" if has_alpha(picture) else "RGB")
    scale = side / max(picture.size)
    size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
    return picture.resize(size, Image.Resampling.LANCZOS)


def cut_out(picture: Image.Image) -> tuple[Image.Image, bool]:
    """The picture as RGBA with its backdrop made transparent, and whether one was found.

    A picture that already has transparency keeps it. Otherwise a backdrop counts as plain when
    most of the border is one colour; the pixels of that colour connected to the border are
    cleared, so the same colour inside the subject (a white label on a white backdrop) stays.
    """
    rgba = picture.convert("RGBA")
    alpha = np.asarray(rgba.getchannel("A"))
    if (alpha < 250).mean() > 0.01:
        return rgba, True
    pixels = np.asarray(rgba.convert("RGB"), dtype=np.float32)
    edges = [pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]]
    colour = np.median(np.concatenate(edges), axis=0)
    for edge in edges:
        if (
            np.linalg.norm(edge - colour, axis=1) < BACKGROUND_TOLERANCE
        ).mean() < PLAIN_BORDER_SHARE:
            return rgba, False
    distance = np.linalg.norm(pixels - colour, axis=2)
    backdrop = _connected_to_border(distance < BACKGROUND_TOLERANCE)
    if backdrop.mean() > 0.97:
        return rgba, False  # nothing but backdrop: there is no subject to cut out
    # Soft edge: backdrop pixels fade out over the tolerance band instead of a hard step.
    softness = np.clip((distance - BACKGROUND_TOLERANCE / 2) / (BACKGROUND_TOLERANCE / 2), 0, 1)
    alpha_values = np.where(backdrop, softness, 1.0)
    alpha_values = (
        np.asarray(
            Image.fromarray((alpha_values * 255).astype(np.uint8)).filter(
                ImageFilter.GaussianBlur(0.6)
            ),
            dtype=np.float32,
        )
        / 255
    )
    # Edge pixels are a mix of subject and backdrop: take the backdrop's share out of their
    # colour, or they draw a pale fringe around the subject on any new background.
    share = np.clip(alpha_values, 0.05, 1.0)[..., None]
    unmixed = np.clip((pixels - (1 - share) * colour) / share, 0, 255)
    colours = np.where((alpha_values < 1.0)[..., None], unmixed, pixels).astype(np.uint8)
    cut = Image.fromarray(colours, "RGB").convert("RGBA")
    cut.putalpha(Image.fromarray((alpha_values * 255).round().astype(np.uint8)))
    return cut, True


def _connected_to_border(candidates: np.ndarray) -> np.ndarray:
    """The `candidates` reachable from the image border through other candidates (4-connected),
    grown on a reduced grid for speed and brought back to full size."""
    height, width = candidates.shape
    step = max(1, max(height, width) // 256)
    small = candidates[::step, ::step]
    reached = np.zeros_like(small)
    reached[0], reached[-1], reached[:, 0], reached[:, -1] = (
        small[0],
        small[-1],
        small[:, 0],
        small[:, -1],
    )
    for _ in range(small.shape[0] * small.shape[1]):
        grown = reached.copy()
        grown[1:] |= reached[:-1]
        grown[:-1] |= reached[1:]
        grown[:, 1:] |= reached[:, :-1]
        grown[:, :-1] |= reached[:, 1:]
        grown &= small
        if np.array_equal(grown, reached):
            break
        reached = grown
    full = np.repeat(np.repeat(reached, step, axis=0), step, axis=1)[:height, :width]
    return full & candidates


def trim(subject: Image.Image) -> Image.Image:
    box = subject.getchannel("A").point(lambda a: 255 if a > 8 else 0).getbbox()
    return subject.crop(box) if box else subject
