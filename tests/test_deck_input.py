"""Bad slides files are refused before any picture is made, naming the row and the field."""

from __future__ import annotations

import json

import pytest

from gouache.decks import SlideInputError, make_deck
from gouache.decks.slides import read_slides
from gouache.errors import InvalidRequest
from tests.deck_helpers import write_csv


def _refused(tmp_path, slides, **kwargs) -> SlideInputError:
    out = tmp_path / "deck.pptx"
    with pytest.raises(SlideInputError) as caught:
        make_deck(slides, out, engine="instant", **kwargs)
    assert not out.exists()
    assert not (tmp_path / "deck-images").exists(), "no picture may be made for bad input"
    assert isinstance(caught.value, InvalidRequest)
    return caught.value


def test_missing_title_names_the_row_and_field(tmp_path):
    path = write_csv(tmp_path / "s.csv", [{"title": "One"}, {"title": "", "description": "x"}])
    error = _refused(tmp_path, path)
    assert error.param == "title"
    assert error.message.startswith("slide 2 (line 3): 'title' is missing")


def test_unknown_layout_lists_the_usable_ones(tmp_path):
    path = write_csv(tmp_path / "s.csv", [{"title": "One"}, {"title": "Two", "layout": "Hero"}])
    error = _refused(tmp_path, path)
    assert error.param == "layout"
    assert "slide 2 (line 3): unknown layout 'Hero'" in error.message
    assert "'Picture Right'" in error.message and "'Full Picture'" in error.message


def test_prompt_over_the_deployment_limit(tmp_path):
    rows = [{"title": "One", "prompt": "a cat " * 300}]  # 1800 characters
    error = _refused(tmp_path, rows, deployment="dall-e-2")
    assert error.param == "prompt"
    assert error.message.startswith("slide 1: 'prompt' is 1799 characters and the style")
    assert "deployment 'dall-e-2' takes at most 1000" in error.message


def test_unknown_field_and_column(tmp_path):
    error = _refused(tmp_path, [{"title": "One", "image": "x.png"}])
    assert error.message.startswith("slide 1: unknown field(s) 'image'")
    path = tmp_path / "s.csv"
    path.write_text("title,picture\nOne,x\n")
    error = _refused(tmp_path, path)
    assert "unknown column(s) 'picture'" in error.message and "line 1" in error.message


def test_wrong_types_and_formats(tmp_path):
    error = _refused(tmp_path, [{"title": "One", "bullets": {"a": 1}}])
    assert error.param == "bullets" and error.message.startswith("slide 1:")
    (tmp_path / "s.txt").write_text("title\nOne\n")
    assert "must be .csv, .yaml, .yml or .json" in _refused(tmp_path, tmp_path / "s.txt").message
    (tmp_path / "s.json").write_text("{not json")
    assert "is not valid JSON" in _refused(tmp_path, tmp_path / "s.json").message
    (tmp_path / "e.json").write_text("[]")
    assert "has no slides" in _refused(tmp_path, tmp_path / "e.json").message


def test_bad_palette_seed_and_out(tmp_path):
    rows = [{"title": "One"}]
    with pytest.raises(InvalidRequest, match="'#12345' is not a hex colour"):
        make_deck(rows, tmp_path / "d.pptx", palette="#1f3a5f,#12345", engine="instant")
    with pytest.raises(InvalidRequest, match="'seed' must be an integer"):
        make_deck(rows, tmp_path / "d.pptx", seed=-1, engine="instant")
    with pytest.raises(InvalidRequest, match="'retries' is the most tries"):
        make_deck(rows, tmp_path / "d.pptx", retries=0, engine="instant")
    with pytest.raises(InvalidRequest, match="'timeout' must be a number of seconds"):
        make_deck(rows, tmp_path / "d.pptx", timeout=-1, engine="instant")
    with pytest.raises(InvalidRequest, match="'concurrency' is how many pictures"):
        make_deck(rows, tmp_path / "d.pptx", concurrency=0, engine="instant")
    with pytest.raises(InvalidRequest, match="must name a .pptx file"):
        make_deck(rows, tmp_path / "d.ppt", engine="instant")
    assert list(tmp_path.iterdir()) == []


def test_csv_yaml_and_json_read_the_same(tmp_path):
    write_csv(
        tmp_path / "s.csv",
        [{"title": "Shoe", "bullets": "Light | Grippy\nRecycled", "layout": "Picture Left"}],
    )
    (tmp_path / "s.yaml").write_text(
        "title: Spring\nslides:\n  - title: Shoe\n    bullets: [Light, Grippy, Recycled]\n"
        "    layout: Picture Left\n"
    )
    (tmp_path / "s.json").write_text(
        json.dumps(
            [
                {
                    "title": "Shoe",
                    "bullets": ["Light", "Grippy", "Recycled"],
                    "layout": "Picture Left",
                }
            ]
        )
    )
    specs = [read_slides(tmp_path / name) for name in ("s.csv", "s.yaml", "s.json")]
    for spec in specs:
        (slide,) = spec.slides
        assert (slide.title, slide.bullets, slide.layout) == (
            "Shoe",
            ("Light", "Grippy", "Recycled"),
            "Picture Left",
        )
    assert specs[1].title == "Spring" and specs[0].title == "S"


def test_the_docs_examples_read():
    import re
    from pathlib import Path

    import yaml

    from gouache.decks.slides import parse_document

    docs = Path(__file__).resolve().parents[1] / "docs"
    spec = read_slides(docs / "decks" / "products.csv")
    assert [s.title for s in spec.slides][:2] == ["Trail Runner 2", "City Commuter Bike"]
    assert len(spec.slides) == 5 and spec.slides[4].layout == "Full Picture"
    page = (docs / "decks.md").read_text()
    assert (docs / "decks" / "products.csv").read_text().strip() in page
    block = re.search(r"```yaml\n(.*?)```", page, re.S).group(1)
    example = parse_document(yaml.safe_load(block))
    assert example.title == "Q3 review" and len(example.slides) == 2
