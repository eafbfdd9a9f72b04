"""Filling a hole in a picture from its surroundings, for the built-in engine's masked edits."""

from __future__ import annotations

import numpy as np
from PIL import Image


def fill_from_surroundings(base: Image.Image, region: Image.Image) -> Image.Image:
    """The hole filled with a smooth continuation of the pixels around it: a normalised
    convolution (the blur of the known pixels divided by the blur of where they are known) wide
    enough to reach the middle of the hole in one pass, so the fill has no seams."""
    known = (np.asarray(region) == 0) & (np.asarray(base.getchannel("A")) > 0)
    pixels = np.asarray(base.convert("RGB"), dtype=np.float32)
    filled = pixels.copy()
    box = region.getbbox() or (0, 0, *base.size)
    radius = max(4.0, max(box[2] - box[0], box[3] - box[1]) / 2.5)
    weight = _blur_array(known.astype(np.float32), radius)
    colour = _blur_array(pixels * known[..., None], radius)
    todo = ~known
    reached = todo & (weight > 1e-4)
    filled[reached] = colour[reached] / weight[reached, None]
    filled[todo & ~reached] = pixels[known].mean(axis=0) if known.any() else 200.0
    # Rows first: each row of the hole runs from the nearest known pixel on its left to the
    # nearest on its right, so a wall, a floor line or a horizon carries straight across the
    # hole instead of smudging into what lies above, below or further along the row.
    top, bottom = max(0, box[1] - 1), min(pixels.shape[0], box[3] + 1)  # only the hole's rows
    rows = _across_rows(pixels[top:bottom], known[top:bottom])
    by_rows = todo[top:bottom] & ~np.isnan(rows[..., 0])
    filled[top:bottom][by_rows] = rows[by_rows]
    return Image.fromarray(np.clip(filled, 0, 255).astype(np.uint8), "RGB").convert("RGBA")


def _across_rows(pixels: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Each pixel as the distance-weighted mix of the nearest known pixels to its left and
    right on its row (one side alone where the other has none); NaN where its row has none.
    Each side's colour is the mean of three rows, so a one-pixel line does not streak."""
    height, width = known.shape
    columns = np.broadcast_to(np.arange(width), (height, width))
    left = np.maximum.accumulate(np.where(known, columns, -1), axis=1)
    right = np.minimum.accumulate(np.where(known, columns, width)[:, ::-1], axis=1)[:, ::-1]
    smooth = pixels.copy()
    smooth[1:-1] = (pixels[:-2] + pixels[1:-1] + pixels[2:]) / 3
    row_index = np.arange(height)[:, None]
    left_colour = smooth[row_index, np.clip(left, 0, width - 1)]
    right_colour = smooth[row_index, np.clip(right, 0, width - 1)]
    has_left, has_right = left >= 0, right < width
    to_left = (columns - left).astype(np.float32)
    to_right = (right - columns).astype(np.float32)
    weight = np.where(has_left & has_right, to_left / np.maximum(to_left + to_right, 1), 0.0)
    weight = np.where(~has_left & has_right, 1.0, weight)[..., None]
    out = left_colour * (1 - weight) + right_colour * weight
    out[~has_left & ~has_right] = np.nan
    return out.astype(np.float32)


def _blur_array(values: np.ndarray, radius: float) -> np.ndarray:
    """A near-Gaussian blur (three box passes per axis, by cumulative sums) of a float array
    (H, W) or (H, W, C), computed on a reduced copy for wide radii (a wide blur has no detail
    to lose) and scaled back up."""
    height, width = values.shape[:2]
    factor = max(1, int(radius // 4))
    small = values[::factor, ::factor].astype(np.float64)
    half = max(1, round(radius / factor / 1.7))
    for axis in (0, 1):
        for _ in range(3):
            small = _box(small, half, axis)
    if factor == 1:
        return small.astype(np.float32)
    planes = small[..., None] if small.ndim == 2 else small
    grown = [
        np.asarray(
            Image.fromarray(np.ascontiguousarray(planes[..., c], dtype=np.float32), "F").resize(
                (width, height), Image.Resampling.BILINEAR
            )
        )
        for c in range(planes.shape[2])
    ]
    stacked = np.stack(grown, axis=-1)
    return stacked[..., 0] if small.ndim == 2 else stacked


def _box(values: np.ndarray, half: int, axis: int) -> np.ndarray:
    """Mean over a window of 2*half+1 along `axis`, edges padded with zeros (the caller
    divides by the blurred weights, so the padding cancels out)."""
    pad = [(0, 0)] * values.ndim
    pad[axis] = (half + 1, half)
    summed = np.cumsum(np.pad(values, pad), axis=axis)
    upper = np.take(summed, np.arange(2 * half + 1, summed.shape[axis]), axis=axis)
    lower = np.take(summed, np.arange(0, summed.shape[axis] - 2 * half - 1), axis=axis)
    return (upper - lower) / (2 * half + 1)
