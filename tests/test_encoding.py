"""The engines' PNG encoder: valid files that decode to exactly the pixels drawn, no larger than
Pillow's own encoder makes them on the built-in engine's pictures."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from gouache.engines import encoding
from gouache.engines.encoding import (
    FILTER_NONE,
    FILTER_PAETH,
    FILTER_SUB,
    FILTER_UP,
    encode_image,
    encode_png,
    isal_compress,
    pillow_png,
    write_png,
    zlib_compress,
)
from gouache.illustrator import Illustrator

CHANNELS = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}
COMPRESSORS = {"isal": isal_compress, "zlib": zlib_compress}


def decoded(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as probe:
        assert probe.format == "PNG"
        probe.verify()  # chunk order and every CRC
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def assert_same_pixels(data: bytes, original: Image.Image) -> None:
    image = decoded(data)
    assert image.mode == original.mode
    assert image.size == original.size
    assert np.array_equal(np.asarray(image), np.asarray(original))


def picture(mode: str, width: int, height: int, seed: int) -> Image.Image:
    """Flat areas with hard edges and a little noise, like a drawn picture with a grain finish."""
    rng = np.random.default_rng(seed)
    shape = (height, width) if mode == "L" else (height, width, CHANNELS[mode])
    pixels = np.zeros(shape, np.uint8)
    pixels[...] = rng.integers(0, 256, shape[2:] or (), dtype=np.uint8)
    pixels[height // 3 :, : width // 2] = rng.integers(0, 256, dtype=np.uint8)
    pixels[::3, ::5] ^= rng.integers(0, 256, pixels[::3, ::5].shape, dtype=np.uint8)
    return Image.fromarray(pixels, mode)


@pytest.mark.parametrize("mode", sorted(CHANNELS))
@pytest.mark.parametrize("kind", [FILTER_NONE, FILTER_SUB, FILTER_UP, FILTER_PAETH])
@pytest.mark.parametrize("compress", sorted(COMPRESSORS))
def test_every_filter_mode_and_compressor_decodes_to_the_same_pixels(mode, kind, compress):
    original = picture(mode, 97, 61, seed=kind)
    assert_same_pixels(write_png(original, kind, COMPRESSORS[compress]), original)


@settings(max_examples=60, deadline=None)
@given(
    mode=st.sampled_from(sorted(CHANNELS)),
    width=st.integers(1, 40),
    height=st.integers(1, 140),
    seed=st.integers(0, 2**32 - 1),
    compress=st.sampled_from(sorted(COMPRESSORS)),
)
def test_any_picture_round_trips(mode, width, height, seed, compress):
    original = picture(mode, width, height, seed)
    assert_same_pixels(encode_png(original, COMPRESSORS[compress]), original)


@pytest.mark.parametrize("mode", ["P", "1", "I;16"])
def test_other_modes_go_through_pillow(mode):
    original = Image.new("RGB", (33, 17), (200, 30, 90)).convert(mode)
    assert encode_png(original) == pillow_png(original)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("noise", [0.5, 1.0, 2.0])
def test_photographic_pictures_are_no_larger_than_pillow_makes_them(seed, noise):
    """Light that varies smoothly in both directions, with sensor noise: where the Paeth filter
    wins, the picture goes to Pillow's adaptive encoder, else a fixed filter does as well."""
    rng = np.random.default_rng(seed)

    def walk() -> np.ndarray:
        steps = np.cumsum(rng.integers(-6, 7, (256, 3)), axis=0)
        steps -= steps.min(axis=0)
        return steps * (120 / max(1, steps.max()))

    y, x = np.mgrid[0:256, 0:256]
    base = walk()[None, :, :] + walk()[:, None, :] + 8 * np.sin(x * y / 500.0)[..., None]
    pixels = np.clip(base + rng.normal(0, noise, base.shape), 0, 255).astype(np.uint8)
    photo = Image.fromarray(pixels, "RGB")
    data = encode_png(photo)
    assert_same_pixels(data, photo)
    assert len(data) <= len(pillow_png(photo))
    if noise >= 1.0:
        rows, channels = encoding.image_rows(photo)
        assert encoding.choose_filter(rows, channels, isal_compress) == FILTER_PAETH
        assert data == pillow_png(photo)


def test_drawn_pictures_come_out_no_larger_than_with_pillow():
    illustrator = Illustrator()
    prompts = [
        "a red running shoe on a white background",
        "three hot air balloons over the mountains",
        "a slide background in navy, gold and white with space for a title",
        "a bar chart going up",
    ]
    ours = pillows = 0
    for seed, prompt in enumerate(prompts):
        for transparent in (False, True):
            image = illustrator.draw(
                prompt, width=512, height=512, seed=seed, transparent=transparent
            ).image
            data = encode_png(image)
            assert_same_pixels(data, image)
            ours += len(data)
            pillows += len(pillow_png(image))
    assert ours <= pillows


def test_encode_image_keeps_jpeg_and_webp_and_refuses_unknown_formats():
    original = picture("RGBA", 64, 48, seed=3)
    jpeg = Image.open(io.BytesIO(encode_image(original, "jpeg", 80)))
    assert (jpeg.format, jpeg.mode, jpeg.size) == ("JPEG", "RGB", (64, 48))
    webp = Image.open(io.BytesIO(encode_image(original, "webp")))
    assert (webp.format, webp.size) == ("WEBP", (64, 48))
    with pytest.raises(ValueError, match="gif"):
        encode_image(original, "gif")


def test_isal_is_the_default_compressor_where_installed():
    assert encoding.DEFAULT_COMPRESS is isal_compress
