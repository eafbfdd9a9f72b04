"""Reading prompts: retrieval by meaning, colours, counts, positions, settings and styles."""

from __future__ import annotations

import numpy as np
import pytest

from gouache.illustrator import colours
from gouache.illustrator.concepts import shared_index
from gouache.illustrator.encoder import shared_encoder
from gouache.illustrator.parse import find_concepts, parse


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("puppy", "dog"),
        ("automobile", "car"),
        ("a sneaker", "shoe"),
        ("a running shoe", "shoe"),
        ("a kitten", "cat"),
        ("a crimson automobile", "car"),
    ],
)
def test_synonyms_retrieve_the_right_thing(prompt: str, expected: str) -> None:
    found = find_concepts(prompt)
    assert found, prompt
    # The Noto Emoji car is named AUTOMOBILE (U+1F697): that glyph is a car.
    name = "car" if found[0].codepoint == 0x1F697 else found[0].name
    assert expected in name, found


def test_laptop_on_a_desk_finds_both() -> None:
    plan = parse("laptop on a desk")
    assert [s.concept.name for s in plan.subjects] == ["laptop"]
    assert plan.surface == "desk"
    assert plan.surface_concept is not None and "desk" in plan.surface_concept.name


def test_encoder_separates_meanings() -> None:
    encoder = shared_encoder()
    puppy, dog, car = encoder.encode(["puppy", "dog", "car"])
    assert float(puppy @ dog) > float(puppy @ car) + 0.3
    assert np.isclose(np.linalg.norm(puppy), 1.0, atol=1e-4)


def test_unknown_words_are_not_drawn() -> None:
    assert find_concepts("asdf qwer zxcv") == []
    assert shared_index().best("zzzzqqq") is None


def test_crimson_is_a_red() -> None:
    r, g, b = colours.lookup("crimson")
    assert r > 120 and r > 3 * g and r > 2 * b
    plan = parse("a crimson automobile")
    assert plan.subjects[0].concept.name in ("car", "automobile")
    r, g, b = plan.subjects[0].colours[0]
    assert r > 2 * g and r > 2 * b


@pytest.mark.parametrize(
    ("phrase", "check"),
    [
        ("#1e90ff", lambda c: c == (30, 144, 255)),
        ("navy", lambda c: c[2] > c[0] and sum(c) < 250),
        ("light blue", lambda c: c[2] > 200 and c[0] > 100),
        ("dark green", lambda c: c[1] > c[0] and c[1] > c[2] and sum(c) < 250),
        ("pastel pink", lambda c: c[0] > 220 and c[2] > 150),
        ("neon green", lambda c: c[1] > 200),
        ("turquiose", lambda c: c[1] > 150 and c[2] > 150 and c[0] < 120),  # a typo
    ],
)
def test_colour_names(phrase: str, check) -> None:
    found = colours.lookup(phrase)
    assert found is not None and check(found), found


def test_palette_list() -> None:
    plan = parse("a slide background in navy, gold and white")
    assert len(plan.palette) == 3
    assert plan.purpose == "slide"


def test_counts_sizes_positions_relations() -> None:
    plan = parse("a pair of tiny yellow birds above a big house on the right")
    birds, house = plan.subjects
    assert birds.count == 2 and birds.size < 1 and birds.relation == "above" and birds.anchor == 1
    assert house.size > 1 and house.position == "right"
    assert parse("a few apples").subjects[0].count == 3
    assert parse("three red circles").subjects[0].count == 3
    assert parse("a cat in the top left corner").subjects[0].position == "top-left"


def test_settings_times_and_styles() -> None:
    plan = parse("city skyline at night, retro style")
    assert (plan.setting, plan.time, plan.style) == ("city", "night", "retro")
    assert parse("a whale in the ocean at sunset").setting == "ocean"
    assert parse("a pine forest in pastel colours").style == "pastel"
    assert parse("a rocket, neon").style == "neon"
    assert parse("a dog in line art").style == "line"


def test_colour_nouns_stay_things() -> None:
    assert parse("an orange").subjects == [] or parse("an orange").palette
    plan = parse("an orange cat")
    assert plan.subjects[0].concept.name == "cat" and plan.subjects[0].colours


def test_revised_prompt_names_the_room_a_table_is_drawn_in():
    from gouache.illustrator import Illustrator

    drawing = Illustrator().draw("a red apple on a wooden table", width=256, height=256, seed=1)
    assert drawing.understood.startswith("a red apple on a table in a room")
    outdoor = Illustrator().draw("a red apple", width=256, height=256, seed=1)
    assert "room" not in outdoor.understood


def test_every_drawing_named_in_the_lexicon_exists() -> None:
    """A newcomer adding a figure, a room or an alias learns here if a drawing name is wrong."""
    from gouache.illustrator.lexicon import ALIASES, FIGURES, ICON_SETS, RIDERS, ROOMS

    index = shared_index()
    refs = list(ALIASES.values()) + list(RIDERS.values())
    refs += [ref for recipe in FIGURES.values() for ref in (recipe["base"], recipe["prop"]) if ref]
    refs += [piece[0] for room in ROOMS.values() for piece in room["furniture"]]
    refs += [ref for icons in ICON_SETS.values() for ref in icons]
    missing = [ref for ref in refs if index.by_ref(ref) is None]
    assert missing == []


def test_a_new_kind_of_figure_is_one_data_entry() -> None:
    """As docs/engines.md shows: a figure recipe added to the lexicon is drawn with its prop."""
    from gouache.illustrator.lexicon import FIGURES

    recipe = {"base": "mdi:human handsdown", "prop": "emoji:airplane", "at": "hand", "count": 1}
    FIGURES["pilot"] = recipe
    try:
        subject = parse("a pilot at the airport").subjects[0]
    finally:
        del FIGURES["pilot"]
    assert subject.figure and subject.prop is not None and subject.prop.name == "airplane"
