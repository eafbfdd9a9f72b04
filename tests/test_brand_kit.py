"""`make_brand_kit` / `gouache brand-kit` on the built-in engine: sizes, colours, legible name,
and the same kit from the same arguments."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gouache import make_brand_kit
from gouache.errors import InvalidRequest
from tests.deck_helpers import ocr

NAME = "Northwind Coffee"
PALETTE = ["#3b2418", "#c8553d", "#f4e9d8", "#588b8b"]
SIZES = {
    "social/link-preview-1200x630.png": (1200, 630),
    "social/square-1080x1080.png": (1080, 1080),
    "social/story-1080x1920.png": (1080, 1920),
    "social/header-1500x500.png": (1500, 500),
    "slides/background-1.png": (1920, 1080),
    "slides/background-2.png": (1920, 1080),
    "logos/logo-1.png": (1600, 600),
    "logos/logo-2.png": (1600, 600),
    "logos/logo-3.png": (1600, 600),
}


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    out = tmp_path_factory.mktemp("kit") / "northwind"
    return make_brand_kit(
        NAME, out, description="a coffee roastery", palette=",".join(PALETTE), seed=5
    )


def _share_near(path, colour: str, within: float = 20.0) -> float:
    with Image.open(path) as image:  # every 4th pixel each way: flat areas stay flat
        small = image.convert("RGB").resize((image.width // 4, image.height // 4), Image.NEAREST)
    pixels = np.asarray(small).reshape(-1, 3).astype(int)
    target = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
    return float((np.sqrt(((pixels - target) ** 2).sum(axis=1)) < within).mean())


def test_every_file_at_its_size(kit):
    assert not kit.failed
    written = sorted(
        str(p.relative_to(kit.folder))
        for p in kit.folder.rglob("*")
        if p.is_file() and ".pictures" not in p.parts
    )
    assert written == sorted([*SIZES, "palette.json", "palette.css", "board.png"])
    for name, size in SIZES.items():
        with Image.open(kit.folder / name) as image:
            assert (image.format, image.size) == ("PNG", size), name
    with Image.open(kit.board) as board:
        assert board.width == 2400 and board.height > 1200


def test_palette_files(kit):
    data = json.loads(kit.palette_json.read_text())
    assert data["name"] == NAME
    assert [c["hex"] for c in data["colours"]] == PALETTE
    assert data["colours"][1] == {"role": "accent", "hex": "#c8553d", "rgb": [200, 85, 61]}
    css = kit.palette_css.read_text()
    assert "--brand-primary: #3b2418;" in css and "--brand-secondary: #588b8b;" in css


def test_the_palette_colours_are_in_the_generated_pictures(kit):
    generated = sorted((kit.folder / ".pictures").glob("*.png"))
    assert len(generated) == 9  # 3 marks, 4 social, 2 slide backgrounds
    for colour in PALETTE:
        best = max(_share_near(path, colour) for path in generated)
        assert best > 0.005, f"{colour} covers at most {best:.2%} of any generated picture"
    # a colour outside the palette is not: the check can tell
    assert max(_share_near(path, "#ff00ff") for path in generated) < 0.001
    for path in kit.slides:  # backgrounds carry the brand's colours, not just somewhere
        assert _share_near(path, PALETTE[0]) + _share_near(path, PALETTE[1]) > 0.02


def test_the_name_is_legible(kit):
    for path in [*kit.logos, kit.social["link-preview"], kit.social["story"], kit.board]:
        text = " ".join(ocr(path).split())
        assert NAME in text, f"{path.name}: OCR read {text!r}"


def test_same_arguments_same_kit(kit, tmp_path):
    again = make_brand_kit(
        NAME, tmp_path / "again", description="a coffee roastery", palette=",".join(PALETTE), seed=5
    )
    for first, second in zip(kit.files, again.files, strict=True):
        assert first.read_bytes() == second.read_bytes(), first.name
    other = make_brand_kit(
        NAME, tmp_path / "other", description="a coffee roastery", palette=",".join(PALETTE), seed=6
    )
    assert other.slides[0].read_bytes() != kit.slides[0].read_bytes()


def test_bad_input_is_refused_before_any_picture(tmp_path):
    with pytest.raises(InvalidRequest, match="The name is empty"):
        make_brand_kit("  ", tmp_path / "k", engine="instant")
    with pytest.raises(InvalidRequest, match="'blue' is not a hex colour"):
        make_brand_kit("Acme", tmp_path / "k", palette="#112233,blue", engine="instant")
    assert not (tmp_path / "k").exists()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gouache.cli.main",
            "brand-kit",
            "Acme",
            "--out",
            str(tmp_path / "k"),
            "--palette",
            "#12",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "Palette colour '#12' is not a hex colour" in done.stderr


def test_cli_writes_the_kit(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gouache.cli.main",
            "brand-kit",
            "Acme",
            "--out",
            str(tmp_path / "acme"),
            "--engine",
            "instant",
            "--seed",
            "9",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    listed = done.stdout.split()
    assert len(listed) == 12 and listed[-1].endswith("board.png")
    assert all(Path(path).is_file() for path in listed)


def test_an_unreachable_endpoint_leaves_stand_ins_and_says_why(tmp_path):
    from tests.server import free_port

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gouache.cli.main",
            "brand-kit",
            "Acme",
            "--out",
            str(tmp_path / "acme"),
            "--endpoint",
            f"http://127.0.0.1:{free_port()}",
            "--retries",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert len(lines) == 9 and lines[0].startswith("gouache brand-kit: mark-1: picture not made:")
    assert "Connection refused" in lines[0]
    assert (tmp_path / "acme" / "board.png").is_file()  # the kit is still composed
    assert (tmp_path / "acme" / ".pictures" / "story-not-made.png").is_file()
