"""Image encoding shared by the engines that draw with Pillow.

PNG is where the time goes: Pillow's encoder tries every PNG filter on every row and keeps the one
whose bytes look smallest, which costs about three times as much as compressing. The pictures an
engine returns are mostly flat illustrations, for which one fixed filter for the whole picture
compresses about as well, often better. So `encode_png` filters the rows with numpy (none, sub or
up, picked per picture by compressing a sample of rows with each), deflates with ISA-L (`isal`,
several times faster than zlib at the same ratio; the standard `zlib` when it is not installed)
and writes the chunks itself. Photographic pictures (the sample compresses poorly) on which the
Paeth filter wins clearly go to Pillow's adaptive encoder as before, so that they do not grow.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable

import numpy as np
from PIL import Image

try:  # ISA-L's deflate: same format, about 4x faster than zlib at level 1
    from isal import isal_zlib as _isal
except ImportError:  # pragma: no cover - exercised by passing `compress=` in the tests
    _isal = None

MEDIA_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}

Compress = Callable[[bytes], bytes]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# PNG colour types for the 8-bit modes written directly; other modes go through Pillow.
COLOUR_TYPES = {"L": 0, "RGB": 2, "LA": 4, "RGBA": 6}
FILTER_NONE, FILTER_SUB, FILTER_UP, FILTER_PAETH = 0, 1, 2, 4
SAMPLE_EVERY = 64  # rows: one band of SAMPLE_ROWS rows out of every SAMPLE_EVERY judges the filter
SAMPLE_ROWS = 8
# A sample that deflates to more than this share of its size is photographic: only then is the
# (slow, numpy) Paeth filter tried on it, and if it beats the best fixed filter by more than
# PAETH_MARGIN the picture goes to Pillow's encoder, which applies Paeth row by row in C.
PHOTO_RATIO = 0.2
PAETH_MARGIN = 0.98


def isal_compress(data: bytes) -> bytes:
    return _isal.compress(data, 2)


def zlib_compress(data: bytes) -> bytes:
    return zlib.compress(data, 1)


DEFAULT_COMPRESS: Compress = isal_compress if _isal is not None else zlib_compress


def encode_image(
    image: Image.Image, output_format: str = "png", compression: int | None = None
) -> bytes:
    """Encode with settings tuned for speed: these are flat illustrations or model outputs that
    will be downloaded once, so PNG favours speed (see `encode_png`) and JPEG/WebP map
    `output_compression` (0..100, 100 = best quality, as in the OpenAI API) to Pillow's quality."""
    if output_format == "png":
        return encode_png(image)
    if output_format in ("jpeg", "webp"):
        buffer = io.BytesIO()
        quality = 95 if compression is None else max(1, min(100, compression))
        rgb = image.convert("RGB") if output_format == "jpeg" and image.mode != "RGB" else image
        rgb.save(buffer, format=output_format.upper(), quality=quality)
        return buffer.getvalue()
    raise ValueError(f"unknown output format {output_format!r}")


def media_type(output_format: str) -> str:
    return MEDIA_TYPES[output_format]


def encode_png(image: Image.Image, compress: Compress | None = None) -> bytes:
    """A valid 8-bit PNG of `image` (L, LA, RGB or RGBA; other modes through Pillow), decoding to
    exactly the same pixels. `compress` deflates the filtered rows (zlib format)."""
    if image.mode not in COLOUR_TYPES or image.width == 0 or image.height == 0:
        return pillow_png(image)
    compress = compress or DEFAULT_COMPRESS
    rows, channels = image_rows(image)
    kind = choose_filter(rows, channels, compress)
    if kind == FILTER_PAETH:
        return pillow_png(image)
    return _png(rows, channels, image.mode, kind, compress)


def write_png(image: Image.Image, kind: int, compress: Compress | None = None) -> bytes:
    """`image` (L, LA, RGB or RGBA) as a PNG whose every row uses filter `kind`."""
    rows, channels = image_rows(image)
    return _png(rows, channels, image.mode, kind, compress or DEFAULT_COMPRESS)


def _png(rows: np.ndarray, channels: int, mode: str, kind: int, compress: Compress) -> bytes:
    """Signature, IHDR, one IDAT holding every row under filter `kind`, IEND."""
    height, width = rows.shape[0], rows.shape[1] // channels
    header = struct.pack(">IIBBBBB", width, height, 8, COLOUR_TYPES[mode], 0, 0, 0)
    body = compress(filter_rows(rows, channels, kind).tobytes())
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")


def image_rows(image: Image.Image) -> tuple[np.ndarray, int]:
    """The pixels as one row of bytes per image row (a view, no copy), and bytes per pixel."""
    pixels = np.asarray(image)
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    return pixels.reshape(image.height, -1), channels


def pillow_png(image: Image.Image) -> bytes:
    """Pillow's own encoder (per-row adaptive filters), at its fastest zlib level."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def choose_filter(rows: np.ndarray, channels: int, compress: Compress) -> int:
    """The filter whose sample compresses smallest: a few bands of rows, each filtered against the
    row above it as in the full picture, are compressed with every candidate filter. FILTER_PAETH
    means "hand the picture to Pillow"."""
    height = rows.shape[0]
    starts = np.arange(0, height, SAMPLE_EVERY)
    picked = (starts[:, None] + np.arange(SAMPLE_ROWS)[None, :]).ravel()
    picked = picked[picked < height]
    above = np.zeros_like(rows[picked])
    has_above = picked > 0
    above[has_above] = rows[picked[has_above] - 1]
    sample = rows[picked]

    def size(kind: int) -> int:
        return len(compress(_filtered(sample, above, channels, kind).tobytes()))

    sizes = {kind: size(kind) for kind in (FILTER_NONE, FILTER_SUB, FILTER_UP)}
    best = min(sizes, key=sizes.__getitem__)
    if sizes[best] > PHOTO_RATIO * sample.size and size(FILTER_PAETH) < PAETH_MARGIN * sizes[best]:
        return FILTER_PAETH
    return best


def filter_rows(rows: np.ndarray, channels: int, kind: int) -> np.ndarray:
    """The whole picture's rows under one filter, each row led by its filter-type byte."""
    if kind in (FILTER_NONE, FILTER_SUB):
        return _filtered(rows, rows, channels, kind)  # `above` is not read
    above = np.empty_like(rows)
    above[0] = 0
    above[1:] = rows[:-1]
    return _filtered(rows, above, channels, kind)


def _filtered(rows: np.ndarray, above: np.ndarray, channels: int, kind: int) -> np.ndarray:
    """PNG filter `kind` of `rows`, given the unfiltered row above each, as uint8 with the
    filter-type byte in column 0 (arithmetic wraps modulo 256, as the format wants)."""
    count, width = rows.shape
    out = np.empty((count, width + 1), np.uint8)
    out[:, 0] = kind
    body = out[:, 1:]
    if kind == FILTER_NONE:
        body[...] = rows
    elif kind == FILTER_SUB:
        body[:, :channels] = rows[:, :channels]
        np.subtract(rows[:, channels:], rows[:, :-channels], out=body[:, channels:])
    elif kind == FILTER_UP:
        np.subtract(rows, above, out=body)
    elif kind == FILTER_PAETH:
        body[...] = rows - _paeth_predictor(rows, above, channels)
    else:
        raise ValueError(f"unsupported PNG filter {kind}")
    return out


def _paeth_predictor(rows: np.ndarray, above: np.ndarray, channels: int) -> np.ndarray:
    """The Paeth predictor: left, above or upper-left, whichever is nearest to left + above -
    upper-left (ties in that order). Only run on a sample of a photographic picture."""
    up = above.astype(np.int16)
    left = np.zeros_like(up)
    left[:, channels:] = rows[:, :-channels]
    upper_left = np.zeros_like(up)
    upper_left[:, channels:] = above[:, :-channels]
    up_step, left_step = up - upper_left, left - upper_left
    to_left, to_up = np.abs(up_step), np.abs(left_step)
    to_upper_left = np.abs(up_step + left_step)
    nearest = np.where(to_up <= to_upper_left, up, upper_left)
    np.copyto(nearest, left, where=(to_left <= to_up) & (to_left <= to_upper_left))
    return nearest.astype(np.uint8)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
