"""`make_deck` and `gouache deck` in this process: the written .pptx as python-pptx reads it."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest
from PIL import Image
from pptx import Presentation

from gouache import make_deck
from tests.deck_helpers import shown_aspect, slide_pictures, write_csv
from tests.server import start_server

ROWS = [
    {
        "title": "Trail Runner X",
        "description": "A red running shoe. Built for rough trails.",
        "bullets": "Grippy sole|290 g",
    },
    {
        "title": "Studio Headphones",
        "description": "Headphones for the office.",
        "bullets": "40 h battery",
    },
    {
        "title": "Travel Mug",
        "prompt": "a coffee mug on a desk",
        "layout": "Full Picture",
        "bullets": "Keeps hot 12 h",
    },
]


@pytest.fixture
def deck(tmp_path):
    slides = write_csv(tmp_path / "products.csv", ROWS)
    out = tmp_path / "products.pptx"
    result = make_deck(
        slides, out, engine="instant", palette="#1f3a5f,#f2a541", seed=40, title="Spring range"
    )
    return result, Presentation(str(out))


def test_slides_titles_pictures_and_notes(deck):
    result, presentation = deck
    assert result.ok and [s.status for s in result.slides] == ["made"] * 3
    slides = list(presentation.slides)
    assert len(slides) == 1 + len(ROWS)  # the title slide, then one per row
    assert slides[0].shapes.title.text == "Spring range"
    assert not slide_pictures(slides[0])
    for slide, row, report in zip(slides[1:], ROWS, result.slides, strict=True):
        assert slide.shapes.title.text == row["title"]
        (picture,) = slide_pictures(slide)
        placeholder = next(
            ph
            for ph in slide.slide_layout.placeholders
            if ph.placeholder_format.idx == picture.placeholder_format.idx
        )
        # the picture fills its placeholder, and what shows of the image has the same aspect:
        # cropped to fill, never stretched
        assert (picture.width, picture.height) == (placeholder.width, placeholder.height)
        assert shown_aspect(picture) == pytest.approx(
            placeholder.width / placeholder.height, rel=0.01
        )
        notes = slide.notes_slide.notes_text_frame.text
        assert f"Prompt: {report.prompt}" in notes
        assert "Deployment: in-process engine 'instant'" in notes and "Operation id: " in notes
        body = [
            shape.text_frame.text
            for shape in slide.placeholders
            if shape.has_text_frame and shape.placeholder_format.idx not in (0,)
        ]
        assert row["bullets"].split("|")[0] in "\n".join(body)
    assert [s.slide_layout.name for s in slides[1:]] == [
        "Picture Right",
        "Picture Left",
        "Full Picture",
    ]


def test_prompts_share_the_style_palette_and_seed_base(deck):
    result, presentation = deck
    prompts = [report.prompt for report in result.slides]
    assert prompts == [
        "A red running shoe, flat style, in #1f3a5f and #f2a541",
        "Headphones for the office, flat style, in #1f3a5f and #f2a541",
        "a coffee mug on a desk, flat style, in #1f3a5f and #f2a541",
    ]
    notes = [s.notes_slide.notes_text_frame.text for s in list(presentation.slides)[1:]]
    assert [next(line for line in n.splitlines() if line.startswith("Seed: ")) for n in notes] == [
        "Seed: 41",
        "Seed: 42",
        "Seed: 43",
    ]


def test_a_full_picture_is_asked_for_wide(deck):
    result, _ = deck
    manifest = json.loads((result.images_dir / "manifest.json").read_text())["pictures"]
    mug = next(entry for entry in manifest.values() if entry["prompt"].startswith("a coffee"))
    assert mug["requested_size"] == "1792x1024"  # the deployment's size nearest 16:9
    assert mug["made_size"] == "1792x1024"  # made wide, not a square cropped


WIDE_SERVER = """
[deployments.dall-e-3]
profile = "dall-e-3"
engine = "instant"

[deployments.gpt-image-1]
profile = "gpt-image-1"
engine = "instant"
sizes = ["1024x1024"]
"""


def _mug_from_server(tmp_path, server, deployment: str) -> dict:
    slides = write_csv(tmp_path / f"{deployment}.csv", ROWS[2:])
    result = make_deck(
        slides, tmp_path / f"{deployment}.pptx", endpoint=server.url, deployment=deployment,
        palette="#1f3a5f,#f2a541", seed=40, environ={},
    )  # fmt: skip
    assert result.ok, [s.error for s in result.slides]
    (entry,) = json.loads((result.images_dir / "manifest.json").read_text())["pictures"].values()
    with Image.open(result.images_dir / entry["file"]) as image:
        entry["file_size"] = image.size
    return entry


def test_a_full_picture_is_made_wide_by_a_server_and_square_where_refused(tmp_path):
    with start_server(tmp_path, config=WIDE_SERVER) as server:
        wide = _mug_from_server(tmp_path, server, "dall-e-3")
        # a deployment narrowed to the square refuses its model's 1536x1024 (its own 400 on
        # size): the square is made instead and cropped to 16:9
        square = _mug_from_server(tmp_path, server, "gpt-image-1")
    assert (wide["requested_size"], wide["made_size"]) == ("1792x1024", "1792x1024")
    assert wide["file_size"] == (1792, 1008)  # the full width, cropped only to 16:9
    assert (square["requested_size"], square["made_size"]) == ("1536x1024", "1024x1024")
    assert square["file_size"] == (1024, 576)


CUSTOM_NAMED = """
[deployments.brand-wide]
profile = "dall-e-3"
engine = "instant"

[deployments.house-gpt]
profile = "gpt-image-1"
engine = "instant"

[deployments.house-square]
profile = "dall-e-2"
engine = "instant"
"""


def test_custom_named_deployments_get_wide_pictures_where_their_model_has_them(tmp_path):
    """A deployment named by the operator, not by its model: the deck cannot know its sizes, so
    it asks for each model family's wide size in turn, then the square, remembering refusals."""
    with start_server(tmp_path, config=CUSTOM_NAMED) as server:
        dall_e_3 = _mug_from_server(tmp_path, server, "brand-wide")
        square = _mug_from_server(tmp_path, server, "house-square")
        rows = [ROWS[2], {**ROWS[2], "title": "Travel Flask", "prompt": "a steel flask"}]
        result = make_deck(
            write_csv(tmp_path / "two.csv", rows), tmp_path / "two.pptx", endpoint=server.url,
            deployment="house-gpt", seed=40, concurrency=1, environ={},
        )  # fmt: skip
        assert result.ok, [s.error for s in result.slides]
        refused = httpx.get(f"{server.url}/metrics").text
    assert (dall_e_3["requested_size"], dall_e_3["made_size"]) == ("1792x1024", "1792x1024")
    assert (square["requested_size"], square["made_size"]) == ("1792x1024", "1024x1024")
    assert square["file_size"] == (1024, 576)
    manifest = json.loads((result.images_dir / "manifest.json").read_text())["pictures"]
    mug, flask = (manifest[key] for key in sorted(manifest))
    # the first picture learns that 1792x1024 is refused; the second asks for 1536x1024 at once
    assert (mug["requested_size"], mug["made_size"]) == ("1792x1024", "1536x1024")
    assert (flask["requested_size"], flask["made_size"]) == ("1536x1024", "1536x1024")
    refusals = [
        line
        for line in refused.splitlines()
        if line.startswith("gouache_requests_total{")
        and "images/generations" in line
        and 'status="400"' in line
    ]
    # house-square refused two sizes, house-gpt one: three 400s in all
    assert sum(float(line.rsplit(" ", 1)[1]) for line in refusals) == 3


def test_rerun_makes_only_what_is_missing_or_changed(deck, tmp_path):
    result, _ = deck
    kept = {report.number: report.image.stat().st_mtime_ns for report in result.slides}
    result.slides[1].image.unlink()  # one picture lost
    rows = [dict(row) for row in ROWS]
    rows[2]["prompt"] = "a teapot on a desk"  # one prompt changed
    slides = write_csv(tmp_path / "products.csv", rows)
    again = make_deck(
        slides,
        result.path,
        engine="instant",
        palette="#1f3a5f,#f2a541",
        seed=40,
        title="Spring range",
    )
    assert [s.status for s in again.slides] == ["reused", "made", "made"]
    assert again.slides[0].image.stat().st_mtime_ns == kept[1]
    old_mug = result.slides[2].image
    assert not old_mug.exists(), "the changed slide's old picture is removed"
    assert sorted(p.name for p in again.images_dir.glob("*.png")) == sorted(
        s.image.name for s in again.slides
    )


def test_cli_writes_the_deck_and_stays_quiet_off_a_terminal(tmp_path):
    slides = tmp_path / "s.yaml"
    slides.write_text("title: Q3 review\nslides:\n  - title: Growth\n    bullets: [Up 20%]\n")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gouache.cli.main",
            "deck",
            str(slides),
            "--out",
            str(tmp_path / "q3.pptx"),
            "--engine",
            "instant",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no progress bar on a pipe
    assert "q3.pptx: title slide + 1 slide; pictures: 1 made" in done.stdout
    presentation = Presentation(str(tmp_path / "q3.pptx"))
    assert [s.shapes.title.text for s in presentation.slides] == ["Q3 review", "Growth"]

    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "gouache.cli.main",
            "deck",
            str(tmp_path / "none.csv"),
            "--out",
            str(tmp_path / "x.pptx"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2
    assert "none.csv does not exist" in bad.stderr


def test_long_text_gets_a_smaller_size_that_fits(tmp_path):
    from gouache.decks.fitting import wrapped_lines

    assert wrapped_lines("a b c", 5) == 1 and wrapped_lines("aaa bbb ccc", 7) == 2
    assert wrapped_lines("x" * 25, 10) == 3
    long_title = "A very long product title that goes on and on across several lines of the slide"
    rows = [
        {"title": "Short", "bullets": ["One", "Two"], "prompt": "a cow"},
        {
            "title": long_title,
            "bullets": ["a bullet that is quite long and wraps"] * 9,
            "prompt": "a cat",
        },
    ]
    make_deck(rows, tmp_path / "d.pptx", engine="instant")
    short, long = list(Presentation(str(tmp_path / "d.pptx")).slides)[1:]

    def sizes(slide):
        return [
            run.font.size.pt
            for ph in slide.placeholders
            if ph.has_text_frame
            for p in ph.text_frame.paragraphs
            for run in p.runs
        ]

    assert sizes(short) == [36, 20, 20]
    title, *bullets = sizes(long)
    assert title < 36 and len(set(bullets)) == 1 and bullets[0] < 20


def test_without_the_decks_extra_the_command_says_what_to_install(tmp_path):
    import os

    shadow = tmp_path / "shadow" / "pptx"
    shadow.mkdir(parents=True)  # a python-pptx that is not there, ahead of the installed one
    (shadow / "__init__.py").write_text("raise ImportError(\"No module named 'pptx'\")\n")
    env = {
        **os.environ,
        "PYTHONPATH": f"{shadow.parent}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
    }
    done = subprocess.run(
        [sys.executable, "-m", "gouache.cli.main", "deck", "x.csv", "--out", "x.pptx"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 1
    assert "install the decks extra: pip install 'gouache[decks]'" in done.stderr
    assert "Traceback" not in done.stderr
