"""What a person checks in the built-in engine's edits: a sky strip is a blue sky with a yellow
sun, a product stands on the counter of the kitchen it was asked to be in, a plant stands in
its hole, a window shows a city. Inputs are drawn here with Pillow and sent as PNG bytes, as
the job layer sends them; outputs are decoded and read pixel by pixel.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from gouache.engines.base import ImageRequest
from gouache.engines.builtin import BuiltinEngine
from gouache.engines.builtin_edits import what_to_draw
from gouache.engines.builtin_fill import fill_from_surroundings
from gouache.illustrator.illustrator import understand
from tests.conftest import png_bytes

RED = (200, 30, 30)


@pytest.fixture(scope="module")
def engine() -> BuiltinEngine:
    engine = BuiltinEngine()
    engine.setup()
    return engine


def _edit(engine: BuiltinEngine, prompt: str, image: Image.Image, mask=None, size="512x512"):
    request = ImageRequest(
        prompt=prompt,
        n=1,
        size=size,
        seed=7,
        operation="edit",
        images=(png_bytes(image),),
        mask=png_bytes(mask) if mask is not None else None,
    )
    [images] = engine.generate([request])
    picture = Image.open(io.BytesIO(images[0].data))
    return np.asarray(picture.convert("RGB")).astype(int), images[0].revised_prompt


def _red_card() -> Image.Image:
    """The picture users tried: a light grey background with a red rectangle in the middle."""
    picture = Image.new("RGB", (512, 512), (250, 250, 250))
    ImageDraw.Draw(picture).rectangle((150, 150, 350, 400), fill=RED)
    return picture


def _bottle(colour: tuple[int, int, int]) -> Image.Image:
    """A product photo: a bottle shape on a plain white studio background."""
    picture = Image.new("RGB", (400, 480), (255, 255, 255))
    draw = ImageDraw.Draw(picture)
    draw.rectangle((130, 170, 270, 420), fill=colour)
    draw.rectangle((170, 80, 230, 170), fill=colour)
    return picture


def _room() -> Image.Image:
    """A plain room photo: a beige wall, a brown floor from row 380, a blue sofa on the left."""
    picture = Image.new("RGB", (512, 512), (226, 214, 196))
    draw = ImageDraw.Draw(picture)
    draw.rectangle((0, 380, 512, 512), fill=(150, 110, 80))
    draw.rectangle((40, 250, 200, 380), fill=(90, 100, 140))
    return picture


def _mask(box: tuple[int, int, int, int]) -> Image.Image:
    mask = Image.new("RGBA", (512, 512), (0, 0, 0, 255))
    ImageDraw.Draw(mask).rectangle(box, fill=(0, 0, 0, 0))
    return mask


def _near(pixels: np.ndarray, colour: tuple[int, int, int], within: float = 30) -> np.ndarray:
    return np.linalg.norm(pixels - np.array(colour), axis=-1) < within


def _unchanged_outside(result: np.ndarray, source: Image.Image, mask: Image.Image) -> bool:
    keep = np.asarray(mask.getchannel("A")) > 0
    return bool((result[keep] == np.asarray(source).astype(int)[keep]).all())


# -- colour binding -------------------------------------------------------------------------


def test_a_colour_before_a_setting_colours_the_setting_not_the_next_thing() -> None:
    plan = understand("a blue sky with a sun")
    assert plan.setting == "sky"
    assert plan.subjects[0].concept.name.startswith("sun") and not plan.subjects[0].colours
    r, g, b = plan.setting_colours["sky"]
    assert b > r + 100 and b > g + 100
    lawn = understand("a green lawn")
    assert not lawn.subjects and lawn.setting_colours["ground"][1] > 150
    # A colour before a thing stays the thing's.
    car = understand("a red car under a blue sky")
    assert car.subjects[0].colours and car.subjects[0].colours[0][0] > 200


@pytest.mark.parametrize(
    ("prompt", "meant"),
    [
        ("replace with a green plant", "a green plant"),
        ("Replace it with a window", "a window"),
        ("add a cat", "a cat"),
        ("fill the hole with grass", "grass"),
        ("a red balloon", "a red balloon"),
        ("add", "add"),  # nothing left to draw: the prompt as written
    ],
)
def test_edit_instructions_are_not_read_as_things(prompt: str, meant: str) -> None:
    assert what_to_draw(prompt) == meant


# -- masked edits ---------------------------------------------------------------------------


def test_a_sky_strip_is_a_blue_sky_with_a_yellow_sun(engine: BuiltinEngine) -> None:
    source, mask = _red_card(), _mask((0, 0, 511, 119))
    result, understood = _edit(engine, "a blue sky with a sun", source, mask)
    assert _unchanged_outside(result, source, mask)
    strip = result[:112]  # inside the strip, clear of the feathered edge
    red, green, blue = (strip[..., c] for c in range(3))
    skyish = (blue > red + 40) & (blue > green + 10)
    assert skyish.mean() > 0.6, "the strip should be mostly blue sky"
    assert red.mean() < blue.mean() - 60, "not a pinkish blend of the surroundings"
    yellow = (red > 200) & (green > 140) & (blue < 110)
    assert yellow.sum() > 300, "a yellow sun in the strip"
    # No sun drawn blue: nothing saturated dark blue in the strip's middle (the sun's colour).
    assert not ((blue > 150) & (red < 40) & (green < 90)).any()
    assert "sun" in understood and "blue sun" not in understood


def test_a_lawn_along_the_bottom_is_green_ground(engine: BuiltinEngine) -> None:
    source, mask = _red_card(), _mask((0, 400, 511, 511))
    result, _ = _edit(engine, "a green lawn", source, mask)
    assert _unchanged_outside(result, source, mask)
    band = result[410:]
    greenish = (band[..., 1] > band[..., 0] + 30) & (band[..., 1] > band[..., 2] + 30)
    assert greenish.mean() > 0.8


def test_a_plant_in_a_hole_stands_in_it_on_the_continued_wall(engine: BuiltinEngine) -> None:
    source, mask = _room(), _mask((300, 150, 479, 379))
    result, understood = _edit(engine, "replace with a green plant", source, mask)
    assert _unchanged_outside(result, source, mask)
    hole = result[150:380, 300:480]
    greenish = (hole[..., 1] > hole[..., 0] + 40) & (hole[..., 1] > hole[..., 2] + 40)
    assert greenish.mean() > 0.08, "a green plant fills a fair part of the hole"
    rows = np.nonzero(greenish)[0]
    assert rows.max() > 0.8 * hole.shape[0], "it stands near the hole's floor, not floating"
    # Where no plant is, the wall continues: the hole's top corners are wall-coloured.
    for corner in (hole[5:25, 5:25], hole[5:25, -25:-5]):
        assert _near(corner, (226, 214, 196), 20).mean() > 0.9
    assert "replace" not in understood


def test_a_window_with_a_view_shows_a_framed_city(engine: BuiltinEngine) -> None:
    source, mask = _room(), _mask((230, 40, 479, 239))
    result, understood = _edit(engine, "a window with a view of the city", source, mask)
    assert _unchanged_outside(result, source, mask)
    hole = result[40:240, 230:480]
    frame = (hole > 235).all(axis=-1)
    assert frame[:, 120:130].mean() > 0.7, "a glazing bar down the middle"
    sky = (hole[..., 2] > hole[..., 0] + 40) & (hole[..., 2] > 180)
    buildings = (hole[..., 2] > hole[..., 0] + 15) & (hole[..., 2] < 150)
    assert sky.mean() > 0.05 and buildings.mean() > 0.05, "sky over city buildings"
    assert "window" in understood and "city" in understood


# -- product shots in a place ---------------------------------------------------------------


def _product(result: np.ndarray, colour: tuple[int, int, int]) -> tuple[slice, slice, float]:
    """The product's bounding box and how solid it is (its share of that box in its colour)."""
    rows, cols = np.nonzero(_near(result, colour, 40))
    box = (slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1))
    return box[0], box[1], float(_near(result[box], colour, 40).mean())


def test_a_product_shot_in_a_kitchen_stands_on_a_marble_counter(engine: BuiltinEngine) -> None:
    prompt = "a product shot on a marble countertop in a kitchen"
    result, understood = _edit(engine, prompt, _red_card())
    rows, cols, solid = _product(result, RED)
    height = rows.stop - rows.start
    # Intact (one solid rectangle, its 4:5 shape kept) at a sensible scale.
    assert solid > 0.97
    assert abs((cols.stop - cols.start) / height - 201 / 251) < 0.05
    assert 0.2 * 512 < height < 0.45 * 512
    # Standing on a counter top whose front is light, near-neutral marble.
    foot = rows.stop
    front = result[foot + 30 : foot + 60, cols]
    assert front.mean() > 190 and np.ptp(front.mean(axis=(0, 1))) < 30
    # In a room: a window's sky-blue panes and a floor line behind the counter.
    upper = result[: rows.start + height // 2]
    panes = (upper[..., 2] > upper[..., 0] + 25) & (upper[..., 2] > 190)
    assert panes.mean() > 0.01
    assert "kitchen" in understood


@pytest.mark.parametrize(
    ("prompt", "colour", "check", "place"),
    [
        ("on a wooden desk in an office", (30, 90, 200), "wood", "office"),
        ("on a shelf in a shop", (40, 150, 90), "wood", "shop"),
        ("at the beach", (220, 120, 40), "sand", "beach"),
        ("on a kitchen table", (120, 60, 160), "marble", "kitchen"),
    ],
)
def test_a_product_photo_is_placed_in_the_named_place(
    engine: BuiltinEngine, prompt: str, colour: tuple[int, int, int], check: str, place: str
) -> None:
    result, understood = _edit(engine, prompt, _bottle(colour))
    assert place in understood
    rows, cols, solid = _product(result, colour)
    assert solid > 0.6  # a bottle: the body and the neck of its box
    assert 0.2 * 512 < rows.stop - rows.start < 0.55 * 512
    # The white studio background was cut away: hardly any pure white near the product.
    around = result[rows, max(0, cols.start - 20) : cols.stop + 20]
    assert (around > 250).all(axis=-1).mean() < 0.05
    below = result[rows.stop + 30 : rows.stop + 50, cols].reshape(-1, 3).mean(axis=0)
    red, green, blue = below
    if check == "wood":  # a brown top or counter front
        assert red > green > blue and red - blue > 30
    elif check == "marble":  # a kitchen's light stone counter
        assert min(below) > 190 and max(below) - min(below) < 30
    else:  # pale sand, with the blue sea behind the product
        assert red > 200 and red > blue + 30
        behind = result[rows.start : rows.stop, : max(1, cols.start - 10)]
        assert (behind[..., 2] > behind[..., 0] + 40).mean() > 0.2


def test_a_hole_is_filled_by_continuing_each_row_across_it() -> None:
    source = _room().convert("RGBA")
    mask = _mask((260, 300, 499, 459))  # over the wall, the floor line and the floor
    region = ImageRequest(
        prompt="", n=1, size="512x512", seed=0, operation="edit", images=(source,), mask=mask
    ).edit_region(source)
    filled = np.asarray(fill_from_surroundings(source, region).convert("RGB")).astype(int)
    # The wall and the floor carry straight across; the sofa further along the row does not
    # tint the wall, and there is no smudge at the floor line.
    assert _near(filled[302:376, 262:498], (226, 214, 196), 4).all()
    assert _near(filled[384:458, 262:498], (150, 110, 80), 4).all()
