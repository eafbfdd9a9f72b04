"""The illustrator's abilities checked as a person checks a picture: the words read back by OCR,
the chart's bars going the asked way, the slices in the named colours, the figure present, the
thing a prompt says is absent not drawn, and the subject of a prompt in another language."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

from gouache.illustrator import Illustrator
from gouache.illustrator.parse import parse


@pytest.fixture(scope="module")
def illustrator() -> Illustrator:
    return Illustrator()


def ocr(image) -> str:
    """Text read back from a picture by the tesseract command line."""
    if shutil.which("tesseract") is None:
        pytest.fail("tesseract is not installed (apt-get install tesseract-ocr)")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "picture.png"
        image = image.convert("RGB")
        if max(image.size) < 1000:  # as a person zooms in on a thumbnail
            factor = 1000 / max(image.size)
            image = image.resize((int(image.width * factor), int(image.height * factor)))
        image.save(path)
        # Two page layouts (sparse text, one block): large display type is found by one or
        # the other; the words must still be read from the picture's pixels.
        read = [
            subprocess.run(
                ["tesseract", str(path), "-", "--psm", mode],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            for mode in ("11", "6")
        ]
    return " | ".join(" ".join(text.split()).upper() for text in read)


@pytest.mark.parametrize("size", [256, 1024])
def test_a_name_called_in_the_prompt_is_set_in_type_on_the_logo(illustrator, size) -> None:
    drawing = illustrator.draw(
        "a logo concept for a bakery called Rise", width=size, height=size, seed=1
    )
    assert "RISE" in ocr(drawing.image)
    assert '"Rise"' in drawing.understood
    assert "bread" in drawing.understood  # the bakery's mark, not a stock chart


@pytest.mark.parametrize("size", [(256, 256), (1792, 1024), (1024, 1792)])
def test_a_sale_banner_says_its_sale(illustrator, size) -> None:
    drawing = illustrator.draw(
        "a summer sale banner, 50% off", width=size[0], height=size[1], seed=2
    )
    text = ocr(drawing.image)
    assert "SUMMER SALE" in text
    assert "50% OFF" in text


def test_a_quoted_name_is_set_in_type(illustrator) -> None:
    drawing = illustrator.draw('a poster that says "Open Day"', width=768, height=1024, seed=3)
    assert "OPEN DAY" in ocr(drawing.image)


def column_tops(image: np.ndarray, colour: tuple[int, int, int]) -> list[int]:
    """The top row of each run of columns that hold the colour and reach down to the common
    baseline: the bars of a bar chart (a legend swatch in the same colour is no bar)."""
    near = np.abs(image.astype(int) - np.array(colour)).sum(axis=2) < 60
    has = near.sum(axis=0) > 4
    runs, x = [], 0
    while x < len(has):
        if has[x]:
            start = x
            while x < len(has) and has[x]:
                x += 1
            middle = (start + x) // 2
            rows = np.nonzero(near[:, middle])[0]
            if len(rows):
                runs.append((int(rows[0]), int(rows[-1])))
        x += 1
    baseline = max((bottom for _, bottom in runs), default=0)
    return [top for top, bottom in runs if bottom > baseline - image.shape[0] * 0.03]


@pytest.mark.parametrize(
    ("prompt", "rising"),
    [("a bar chart going up in blue", True), ("a bar chart going down in blue", False)],
)
def test_bar_charts_go_the_way_asked(illustrator, prompt, rising) -> None:
    drawing = illustrator.draw(prompt, width=512, height=512, seed=4)
    tops = column_tops(np.asarray(drawing.image), blue_of(prompt))
    assert len(tops) >= 4
    # A higher bar has a smaller top row.
    if rising:
        assert tops[-1] < tops[0]
    else:
        assert tops[-1] > tops[0]


def blue_of(prompt: str) -> tuple[int, int, int]:
    return parse(prompt).palette[0]


def test_a_pie_chart_has_its_slices_in_the_named_colours(illustrator) -> None:
    prompt = "a pie chart with three slices in blue, green and orange"
    plan = parse(prompt)
    assert plan.chart == "pie" and plan.slices == 3
    image = np.asarray(illustrator.draw(prompt, width=512, height=512, seed=5).image).astype(int)
    shares = []
    for colour in plan.palette:
        near = np.abs(image - np.array(colour)).sum(axis=2) < 40
        shares.append(near.mean())
    # Each named colour covers a real slice (over 4 % of the frame).
    assert min(shares) > 0.04, shares


def test_a_person_is_drawn_as_a_figure_holding_their_prop(illustrator) -> None:
    plan = parse("a smiling woman holding a tablet")
    assert len(plan.subjects) == 1
    woman = plan.subjects[0]
    assert woman.figure and "female" in woman.concept.name
    assert woman.prop is not None and woman.prop.name == "tablet"
    plan = parse("two business people shaking hands")
    assert plan.subjects[0].figure and plan.subjects[0].count == 2
    assert any(s.concept.name == "handshake" for s in plan.subjects)


def test_a_team_in_a_conference_room_is_people_in_a_room(illustrator) -> None:
    plan = parse("a team meeting in a conference room")
    assert plan.room == "conference"
    assert plan.subjects[0].figure and plan.subjects[0].count == 3
    drawing = illustrator.draw("a team meeting in a conference room", width=512, height=512, seed=6)
    assert "conference room" in drawing.understood


@pytest.mark.parametrize(
    ("prompt", "thing"),
    [
        ("a stainless steel water bottle", "bottle"),
        ("pendant lights over a kitchen island", "ceiling light"),
        ("a bottle of perfume", "lotion bottle"),
        ("palm trees at sunset", "palm tree"),
        ("a charging station for electric cars", "ev station"),
        ("an office building at dusk", "office building"),
    ],
)
def test_the_head_noun_picks_the_drawing(prompt, thing) -> None:
    names = [s.concept.name for s in parse(prompt).subjects]
    assert any(thing in name for name in names), names
    assert "necklace" not in names and "building construction" not in names


def test_what_the_prompt_says_is_absent_is_not_drawn(illustrator) -> None:
    plan = parse("a street with no cars")
    assert plan.subjects == [] and plan.excluded == ["cars"]
    drawing = illustrator.draw("a street with no cars", width=256, height=256, seed=7)
    assert "with no cars" in drawing.understood


@pytest.mark.parametrize(
    ("prompt", "thing", "language"),
    [
        ("ein Hund im Park", "dog", "German"),
        ("un gato en la playa", "cat", "Spanish"),
        ("une voiture rouge dans la ville", "automobile", "French"),
        ("猫と犬", "cat", "Japanese"),
    ],
)
def test_other_languages_draw_their_subject(illustrator, prompt, thing, language) -> None:
    plan = parse(prompt)
    assert thing in [s.concept.name for s in plan.subjects]
    drawing = illustrator.draw(prompt, width=256, height=256, seed=8)
    assert f"read as {language}" in drawing.understood


def test_french_colours_bind_to_their_noun() -> None:
    subject = parse("une voiture rouge dans la ville").subjects[0]
    assert subject.colours and subject.colours[0][0] > 180 > subject.colours[0][2]


def test_emoji_prompts_draw_their_emoji() -> None:
    names = [s.concept.name for s in parse("🚀🌕").subjects]
    assert names[0] == "rocket" and "moon" in names[1]


def test_a_brain_inside_a_bulb_is_drawn_inside_it(illustrator) -> None:
    from gouache.illustrator.illustrator import Sketch

    plan = parse("a brain inside a light bulb")
    sketch = Sketch(plan, "flat", 512, 512, np.random.default_rng(1), False)
    sketch.stage_and_layout()
    brain = next(p for p in sketch.placements if p.subject == 0)
    bulb = next(p for p in sketch.placements if p.subject == 1)
    assert abs(brain.cx - bulb.cx) < bulb.size * 0.2
    assert abs(brain.cy - bulb.cy) < bulb.size * 0.3
    assert brain.size < bulb.size * 0.6


def test_a_green_leaf_logo_has_a_green_mark(illustrator) -> None:
    image = np.asarray(
        illustrator.draw("a green leaf logo", width=512, height=512, seed=9).image
    ).astype(int)
    centre = image[160:352, 160:352]
    r, g, b = centre[..., 0], centre[..., 1], centre[..., 2]
    greenish = (g > r + 40) & (g > b + 40)
    spread = centre.max(axis=2) - centre.min(axis=2)
    other_hue = (spread > 60) & ~greenish
    # The mark is green (a green leaf, or a leaf on a green badge); no other hue colours it.
    assert greenish.mean() > 0.08
    assert other_hue.mean() < 0.02


def sketch_of(prompt: str, width: int = 1024, height: int = 1024, seed: int = 1):
    from gouache.illustrator.illustrator import Sketch

    sketch = Sketch(parse(prompt), "flat", width, height, np.random.default_rng(seed), False)
    sketch.stage_and_layout()
    return sketch


def test_the_handshake_is_between_the_two_people() -> None:
    sketch = sketch_of("two business people shaking hands")
    people = sorted(p.cx for p in sketch.placements if p.subject == 0)
    shake = next(p for p in sketch.placements if p.subject == 1)
    assert len(people) == 2 and people[0] < shake.cx < people[1]
    assert (
        "shaking hands"
        in Illustrator()
        .draw("two business people shaking hands", width=256, height=256, seed=1)
        .understood
    )


def test_pendant_lights_hang_in_the_upper_part_of_the_room() -> None:
    sketch = sketch_of("pendant lights over a kitchen island")
    lights = sketch.placements
    assert len(lights) == 3 and all(p.cy < 1024 * 0.5 for p in lights)


@pytest.mark.parametrize(
    "prompt",
    [
        "a team meeting in a conference room",
        "friends at a cafe table",
        "three pastel coffee mugs on a marble countertop",
        "a laptop on a desk",
        "two dogs and three cats",
    ],
)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_nothing_floats_or_is_clipped(prompt, seed) -> None:
    """Standing things stand on the floor, the table or the ground, and stay in the frame."""
    sketch = sketch_of(prompt, seed=seed)
    stage = sketch.stage
    grounds = [stage.ground] + ([stage.surface[0]] if stage.surface else [])
    for p in sketch.placements:
        assert p.cx - p.size * 0.45 >= 0 and p.cx + p.size * 0.45 <= 1024, p
        if p.grounded:
            bottom = p.cy + p.size * 0.5
            assert min(abs(bottom - g) for g in grounds) < 1024 * 0.09, (p, grounds)


def test_people_in_a_room_are_a_sensible_share_of_the_frame() -> None:
    sketch = sketch_of("a team meeting in a conference room")
    people = [p for p in sketch.placements if sketch.plan.subjects[p.subject].figure]
    assert len(people) == 3
    assert all(p.size > 1024 * 0.2 for p in people)


def test_pastel_mugs_are_each_their_own_pastel() -> None:
    subject = parse("three pastel mugs").subjects[0]
    assert subject.count == 3 and len(set(subject.colours[:3])) == 3
    assert all(min(c) > 150 for c in subject.colours)  # light, soft colours


def test_drafts_of_a_room_differ_in_arrangement() -> None:
    layouts = {
        tuple(round(p.cx) for p in sketch_of("a chef in a kitchen", seed=s).placements)
        for s in range(1, 4)
    }
    assert len(layouts) >= 2


@pytest.mark.parametrize(
    "prompt",
    ["a bar chart going up", "a pie chart with four slices", "a logo for a bakery called Rise"],
)
def test_drafts_of_charts_and_logos_differ_in_layout(illustrator, prompt) -> None:
    """n drafts are different layouts (a card or none, a legend, a badge or a ring), not one
    picture re-coloured: the light and dark areas move, not just the hues."""
    shapes = []
    for seed in (1, 2, 3):
        image = illustrator.draw(prompt, width=256, height=256, seed=seed).image.convert("L")
        shapes.append(np.asarray(image).astype(float))
    differences = [np.abs(shapes[a] - shapes[b]).mean() for a in range(3) for b in range(a + 1, 3)]
    assert min(differences) > 8, differences  # out of 255, averaged over every pixel


@pytest.mark.parametrize("seed", [1, 2])
def test_a_business_card_carries_its_name(illustrator, seed) -> None:
    drawing = illustrator.draw(
        'a business card for "Nova Studio"', width=512, height=512, seed=seed
    )
    assert "NOVA STUDIO" in ocr(drawing.image)
    assert drawing.understood.startswith('a business card with the name "Nova Studio"')


@pytest.mark.parametrize(
    ("prompt", "words"),
    [
        ("black friday sale banner", ["BLACK FRIDAY SALE"]),
        ("a house with a for sale sign", ["FOR SALE"]),
        ("a summer sale banner, 50% off", ["SUMMER SALE", "50% OFF"]),
    ],
)
def test_sale_lines_are_read_whole(prompt, words) -> None:
    assert parse(prompt).text == words


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("a woman working on a laptop at home", "a woman with a laptop in a living room"),
        ("kids in a classroom", "three kids in a classroom"),
        ("a man presenting to a group", "a man next to four people"),
        ("a cloud upload icon", "a cloud upload symbol"),
        ("a burger and fries", "a hamburger next to three french fries"),
    ],
)
def test_more_everyday_prompts_are_read_as_meant(illustrator, prompt, expected) -> None:
    understood = illustrator.draw(prompt, width=128, height=128, seed=1).understood
    assert understood.startswith(expected), understood


def test_rain_greys_the_sky_and_falls(illustrator) -> None:
    def sky(prompt: str) -> np.ndarray:
        image = illustrator.draw(prompt, width=256, height=256, seed=1).image
        return np.asarray(image.convert("HSV"))[:60, :, 1].astype(float)

    dry, wet = (
        sky("a purple umbrella in a meadow"),
        sky("a purple umbrella in a meadow in the rain"),
    )
    assert wet.mean() < dry.mean() * 0.85  # a greyer, less saturated sky
    assert (
        "in the rain"
        in illustrator.draw(
            "a purple umbrella in the rain", width=128, height=128, seed=1
        ).understood
    )


@pytest.mark.parametrize(
    ("prompt", "worn", "where"),
    [
        ("a dog in sunglasses on the beach", "dark sunglasses", "face"),
        ("a cat wearing a hat", "top hat", "head"),
    ],
)
def test_what_is_worn_is_worn(prompt, worn, where) -> None:
    plan = parse(prompt)
    assert len(plan.subjects) == 1
    assert plan.subjects[0].prop.name == worn and plan.subjects[0].prop_at == where
    sketch = sketch_of(prompt, 512, 512)
    wearer = sketch.placements[0]
    head_x, top, height = sketch.head_of(wearer)
    # The head is found inside the drawing, in its upper part.
    assert abs(head_x - wearer.cx) < wearer.size * 0.5
    assert wearer.cy - wearer.size * 0.6 < top < wearer.cy


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("a waiter serving coffee", "a waiter with a coffee mug"),
        ("a mother and child in a park", "a mother next to a child in a forest"),
        ("Ein rotes Auto vor einem Haus", "a red car in front of a house"),
        ("a lighthouse in a storm", "a lighthouse on the ocean in the rain"),
        ("🎉 party", "a party popper,"),
    ],
)
def test_people_languages_and_weather_in_other_words(illustrator, prompt, expected) -> None:
    understood = illustrator.draw(prompt, width=128, height=128, seed=1).understood
    assert understood.startswith(expected), understood


def test_a_logo_mark_can_be_a_landscape_word_and_the_name_follows_the_name(illustrator) -> None:
    drawing = illustrator.draw(
        "a logo with a mountain and the name Summit", width=512, height=512, seed=3
    )
    assert "SUMMIT" in ocr(drawing.image)
    assert drawing.understood.startswith('a logo with a mountain named "Summit"')


def test_the_world_map_has_its_continents_where_they_are() -> None:
    from gouache.illustrator.charts import network_map
    from gouache.illustrator.render import Canvas

    canvas = Canvas(720, 272, (255, 255, 255))
    network_map(canvas, (0, 0, 720, 272), [(37, 99, 235), (16, 185, 129)], np.random.default_rng(1))
    image = np.asarray(canvas.image).astype(int)

    def at(lon: float, lat: float) -> np.ndarray:
        x = int((lon + 180) / 360 * 720)
        y = int((80 - lat) / 136 * 272)
        return image[y, x]

    white = np.array([255, 255, 255])
    for lon, lat in [(20, 5), (-100, 45), (-60, -10), (90, 55), (134, -25)]:  # land
        assert np.abs(at(lon, lat) - white).sum() > 60, (lon, lat)
    for lon, lat in [(-35, 20), (-150, 0), (80, -30)]:  # ocean
        assert np.abs(at(lon, lat) - white).sum() < 60, (lon, lat)


@pytest.mark.parametrize(
    "prompt",
    [
        "a bar chart going up",
        "a logo concept for a bakery called Rise",
        'a business card for "Nova Studio"',
        "a set of business icons in teal",
        "a team meeting in a conference room",
        "a purple umbrella in the rain",
    ],
)
@pytest.mark.parametrize(
    ("size", "style", "transparent"),
    [((1, 1), None, False), ((1024, 1792), "line", True), ((300, 200), "neon", False)],
)
def test_every_new_design_draws_at_any_size_style_and_transparency(
    illustrator, prompt, size, style, transparent
) -> None:
    image = illustrator.draw(
        prompt, width=size[0], height=size[1], seed=5, style=style, transparent=transparent
    ).image
    assert image.size == size
    assert image.mode == ("RGBA" if transparent else "RGB")
    if transparent and size[0] > 16:
        alpha = np.asarray(image)[..., 3]
        assert 0.01 < (alpha > 0).mean() < 1.0  # something drawn, and not a filled rectangle


PALETTE = [(0x3B, 0x24, 0x18), (0xC8, 0x55, 0x3D), (0xF4, 0xE9, 0xD8), (0x58, 0x8B, 0x8B)]
STATED = "in #3b2418, #c8553d, #f4e9d8 and #588b8b"


def share_near(image: np.ndarray, colour: tuple[int, int, int], within: float = 20.0) -> float:
    rgb = image[..., :3].reshape(-1, 3).astype(int)
    return float((np.sqrt(((rgb - np.array(colour)) ** 2).sum(axis=1)) < within).mean())


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("size", [(1792, 1024), (1024, 1024), (1024, 1792)])
def test_every_stated_colour_shows_on_a_banner(illustrator, seed, size) -> None:
    prompt = f"a banner for a coffee roastery with space for text, flat style, {STATED}"
    image = np.asarray(illustrator.draw(prompt, width=size[0], height=size[1], seed=seed).image)
    for colour in PALETTE:
        assert share_near(image, colour) > 0.01, (colour, seed, size)


def test_a_product_without_a_colour_of_its_own_wears_the_stated_palette(illustrator) -> None:
    prompt = f"a simple icon of a coffee roastery on a plain white background, flat style, {STATED}"
    worn = set()
    for seed in range(1, 7):
        sketch = sketch_of(prompt, seed=seed)
        (mug,) = sketch.placements
        assert mug.colour in PALETTE, mug.colour  # not coffee brown
        worn.add(mug.colour)
        image = np.asarray(illustrator.draw(prompt, width=512, height=512, seed=seed).image)
        shown = [c for c in PALETTE if share_near(image, c) > 0.01]
        assert len(shown) >= 2, (seed, shown)  # the mug and the shape behind it
    assert len(worn) >= 2  # drafts take different colours of the palette


def test_a_thing_with_its_own_named_colour_keeps_it_in_a_palette() -> None:
    sketch = sketch_of("a green mug on a white background, flat style, in #3b2418 and #c8553d")
    (mug,) = sketch.placements
    r, g, b = mug.colour
    assert g > r and g > b, mug.colour


def test_plants_in_a_room_stay_green_under_a_brand_palette() -> None:
    sketch = sketch_of("a potted plant in an office, in navy and coral")
    (plant,) = sketch.placements
    r, g, b = plant.colour
    assert g > r and g > b, plant.colour
