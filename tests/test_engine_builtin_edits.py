"""Edits, variations and previews of the built-in engine, through the engine contract.

Inputs are made here with Pillow (a product on a plain backdrop, a landscape, masks), sent as
encoded bytes as the job layer sends them, and the outputs decoded and checked pixel by pixel.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from gouache.engines.base import ImageRequest, Preview
from gouache.engines.builtin import BuiltinEngine
from gouache.engines.builtin_cutout import cut_out
from gouache.engines.instant import InstantEngine
from gouache.errors import InvalidRequest
from tests.conftest import png_bytes


@pytest.fixture(scope="module")
def engine() -> BuiltinEngine:
    engine = BuiltinEngine()
    engine.setup()
    return engine


def _decode(data: bytes) -> Image.Image:
    picture = Image.open(io.BytesIO(data))
    picture.load()
    return picture


def _landscape(size: int = 256) -> Image.Image:
    """A sky gradient over green hills with a sun: no plain backdrop, many colours."""
    y = np.linspace(0, 1, size)[:, None]
    sky = np.stack([60 + 150 * y, 90 + 100 * y, 200 - 60 * y], axis=-1)
    pixels = np.broadcast_to(sky, (size, size, 3)).astype(np.uint8).copy()
    picture = Image.fromarray(pixels, "RGB")
    draw = ImageDraw.Draw(picture)
    draw.ellipse((size * 0.6, size * 0.1, size * 0.8, size * 0.3), fill=(250, 210, 60))
    draw.rectangle((0, size * 0.65, size, size), fill=(50, 140, 60))
    return picture


def _product(colour: tuple[int, int, int], size: tuple[int, int] = (200, 240)) -> Image.Image:
    """A coloured bottle shape on a white studio backdrop."""
    picture = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(picture)
    w, h = size
    draw.rectangle((w * 0.3, h * 0.35, w * 0.7, h * 0.85), fill=colour)
    draw.rectangle((w * 0.42, h * 0.15, w * 0.58, h * 0.35), fill=colour)
    return picture


def _hole_mask(size: tuple[int, int], box: tuple[int, int, int, int]) -> Image.Image:
    mask = Image.new("RGBA", size, (0, 0, 0, 255))
    ImageDraw.Draw(mask).ellipse(box, fill=(0, 0, 0, 0))
    return mask


def _edit(**fields) -> ImageRequest:
    values = {"prompt": "a red balloon", "n": 1, "size": "256x256", "seed": 3, "operation": "edit"}
    values.update(fields)
    return ImageRequest(**values)


@pytest.mark.parametrize("hole", [(30, 30, 130, 130), (10, 10, 250, 240)], ids=["small", "large"])
def test_masked_edit_keeps_every_pixel_outside_the_mask(
    engine: BuiltinEngine, hole: tuple[int, int, int, int]
) -> None:
    source = _landscape()
    mask = _hole_mask(source.size, hole)
    [images] = engine.generate([_edit(images=(png_bytes(source),), mask=png_bytes(mask))])
    result = np.asarray(_decode(images[0].data).convert("RGB"))
    original = np.asarray(source)
    outside = np.asarray(mask.getchannel("A")) != 0
    assert result.shape == original.shape
    # Byte for byte outside the transparent area ...
    assert np.array_equal(result[outside], original[outside])
    # ... and a real edit inside it.
    inside = ~outside
    changed = np.abs(result[inside].astype(int) - original[inside]).sum(axis=1) > 30
    assert changed.mean() > 0.2


def test_masked_edit_of_a_transparent_image_keeps_its_alpha(engine: BuiltinEngine) -> None:
    source = _landscape().convert("RGBA")
    source.putalpha(Image.new("L", source.size, 200))
    mask = _hole_mask(source.size, (100, 100, 200, 200))
    [images] = engine.generate([_edit(images=(png_bytes(source),), mask=png_bytes(mask))])
    result = _decode(images[0].data)
    assert result.mode == "RGBA"
    outside = np.asarray(mask.getchannel("A")) != 0
    assert np.array_equal(np.asarray(result)[outside], np.asarray(source)[outside])


def test_mask_must_match_the_image_and_have_alpha(engine: BuiltinEngine) -> None:
    source = png_bytes(_landscape())
    wrong_size = png_bytes(_hole_mask((128, 128), (0, 0, 64, 64)))
    with pytest.raises(InvalidRequest) as caught:
        engine.generate([_edit(images=(source,), mask=wrong_size)])
    assert caught.value.param == "mask" and "128x128" in caught.value.message
    no_alpha = png_bytes(Image.new("L", (256, 256), 0))
    with pytest.raises(InvalidRequest, match="no alpha channel"):
        engine.generate([_edit(images=(source,), mask=no_alpha)])
    opaque = png_bytes(Image.new("RGBA", (256, 256), (0, 0, 0, 255)))
    with pytest.raises(InvalidRequest, match="nothing to edit"):
        engine.generate([_edit(images=(source,), mask=opaque)])


def test_unreadable_input_is_a_clear_error(engine: BuiltinEngine) -> None:
    with pytest.raises(InvalidRequest, match="not a readable"):
        engine.generate([_edit(images=(b"GIF89a but not really",))])


def test_product_shot_cuts_out_the_backdrop_and_fills_the_frame(engine: BuiltinEngine) -> None:
    blue = (20, 60, 220)
    [images] = engine.generate(
        [_edit(prompt="a kitchen counter", size="512x512", images=(png_bytes(_product(blue)),))]
    )
    result = np.asarray(_decode(images[0].data).convert("RGB")).astype(int)
    assert result.shape == (512, 512, 3)
    is_blue = np.linalg.norm(result - blue, axis=2) < 30
    # Scaled up to be the subject (the input's bottle is 80x120 of a 200x240 frame) ...
    assert is_blue.mean() > 0.08
    rows, cols = np.nonzero(is_blue)
    assert 0.25 * 512 < cols.mean() < 0.75 * 512
    # ... standing in the lower part of a drawn scene, not on the input's white backdrop.
    white = (result > 245).all(axis=2)
    assert white.mean() < 0.3
    # A soft shadow darkens the ground just under its foot.
    foot = rows.max()
    under = result[foot + 2 : foot + 8, cols.min() : cols.max()].mean()
    beside = result[foot + 2 : foot + 8, : max(1, cols.min() - 60)].mean()
    assert under < beside


def test_product_shot_on_a_transparent_background(engine: BuiltinEngine) -> None:
    red = (210, 30, 30)
    [images] = engine.generate(
        [_edit(images=(png_bytes(_product(red)),), background="transparent", size="256x256")]
    )
    result = _decode(images[0].data)
    assert result.mode == "RGBA"
    alpha = np.asarray(result.getchannel("A"))
    assert alpha[0, 0] == 0 and alpha[-1, -1] == 0
    rgb = np.asarray(result.convert("RGB")).astype(int)
    assert ((np.linalg.norm(rgb - red, axis=2) < 30) & (alpha == 255)).mean() > 0.05


def test_several_images_are_arranged_side_by_side(engine: BuiltinEngine) -> None:
    red, green = (210, 30, 30), (30, 170, 40)
    request = _edit(
        prompt="a wooden shelf",
        size="512x256",
        images=(png_bytes(_product(red)), _product(green, (150, 300))),  # bytes and PIL both work
    )
    [images] = engine.generate([request])
    result = np.asarray(_decode(images[0].data).convert("RGB")).astype(int)
    assert result.shape == (256, 512, 3)
    red_cols = np.nonzero(np.linalg.norm(result - red, axis=2) < 30)[1]
    green_cols = np.nonzero(np.linalg.norm(result - green, axis=2) < 30)[1]
    assert red_cols.size > 500 and green_cols.size > 500
    # In the order given, not overlapping.
    assert red_cols.max() < green_cols.min()


def test_cut_out_tells_a_backdrop_from_a_scene() -> None:
    cut, separated = cut_out(_product((20, 60, 220)))
    assert separated
    alpha = np.asarray(cut.getchannel("A"))
    assert alpha[0, 0] == 0 and alpha[120, 100] == 255
    _, separated = cut_out(_landscape())
    assert not separated


def test_variations_keep_the_subject_and_change_the_rest(engine: BuiltinEngine) -> None:
    blue = (20, 60, 220)
    request = ImageRequest(
        prompt="",
        n=3,
        size="256x256",
        seed=1,
        operation="variation",
        images=(png_bytes(_product(blue, (256, 256))),),
    )
    [images] = engine.generate([request])
    assert len({image.data for image in images}) == 3
    for image in images:
        result = np.asarray(_decode(image.data).convert("RGB")).astype(int)
        assert result.shape == (256, 256, 3)
        assert (np.linalg.norm(result - blue, axis=2) < 30).mean() > 0.03  # the subject stays
        assert (result > 245).all(axis=2).mean() < 0.2  # a new background


def test_variations_of_a_scene_change_its_palette(engine: BuiltinEngine) -> None:
    source = _landscape()
    request = ImageRequest(
        prompt="", n=1, size="256x256", seed=5, operation="variation", images=(png_bytes(source),)
    )
    [images] = engine.generate([request])
    result = _decode(images[0].data).convert("HSV")
    hue_before = np.asarray(source.convert("HSV"))[..., 0].astype(int)
    hue_after = np.asarray(result)[..., 0].astype(int)
    assert abs(np.median(hue_after) - np.median(hue_before)) > 20


def test_previews_are_real_stages_in_order(engine: BuiltinEngine) -> None:
    got: list[Preview] = []
    plain = ImageRequest(prompt="a red apple on a table", n=1, size="256x256", seed=2)
    shot = _edit(
        prompt="a kitchen counter",
        n=2,
        images=(png_bytes(_product((20, 60, 220))),),
        partial_images=2,
    )
    drawn = ImageRequest(prompt="a lighthouse", n=1, size="256x256", seed=4, partial_images=3)
    plain_images, shot_images, drawn_images = engine.run_batch([plain, shot, drawn], got.append)
    by_image: dict[tuple[int, int], list[Preview]] = {}
    for preview in got:
        by_image.setdefault((preview.request_index, preview.image_index), []).append(preview)
    # None for the request that asked for none; two for each image of the edit; the plain
    # drawing shows what stages it has (fewer than asked is allowed by the API).
    assert sorted(by_image) == [(1, 0), (1, 1), (2, 0)]
    for (request_index, image_index), previews in by_image.items():
        assert [p.partial_image_index for p in previews] == list(range(len(previews)))
        progress = [p.progress for p in previews]
        assert progress == sorted(progress) and all(0 < p < 1 for p in progress)
        final = [plain_images, shot_images, drawn_images][request_index][image_index]
        for preview in previews:
            assert preview.image.size == (256, 256)
            # A stage on the way, not the finished picture sent early.
            assert preview.encode("png") != final.data
            assert not np.array_equal(
                np.asarray(preview.image.convert("RGB")),
                np.asarray(_decode(final.data).convert("RGB")),
            )
    assert len(by_image[(1, 0)]) == 2 and 1 <= len(by_image[(2, 0)]) <= 3


def test_engines_without_edits_refuse_them_alone() -> None:
    instant = InstantEngine()
    edit = _edit(images=(png_bytes(_landscape()),))
    plain = ImageRequest(prompt="a cat", n=1, size="64x64", seed=1, partial_images=2)
    got: list[Preview] = []
    refused, drawn = instant.run_batch([edit, plain], got.append)
    assert isinstance(refused, InvalidRequest) and "cannot edit" in refused.message
    assert isinstance(drawn, list) and len(drawn) == 1
    assert got == []  # no previews from an engine that does not make them


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"operation": "inpaint"}, "operation"),
        ({"operation": "edit"}, "at least one input image"),
        ({"mask": b"x"}, "takes no input images"),
        ({"strength": 0.0}, "strength"),
        ({"strength": 1.5}, "strength"),
        ({"partial_images": 4}, "partial_images"),
        ({"operation": "variation", "images": (b"a", b"b")}, "exactly one image"),
    ],
)
def test_impossible_requests_are_refused(fields: dict, message: str) -> None:
    values = {"prompt": "a cat", "n": 1, "size": "64x64", "seed": 1, **fields}
    with pytest.raises(InvalidRequest, match=message):
        ImageRequest(**values)
