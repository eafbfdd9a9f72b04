"""`--template`: a company's .pptx, built here with python-pptx under its own layout names."""

from __future__ import annotations

import pytest
from pptx import Presentation
from pptx.dml.color import RGBColor

from gouache import make_deck
from gouache.decks import SlideInputError
from tests.deck_helpers import shown_aspect, slide_pictures


def _rename(layout, name):
    layout._element.cSld.set("name", name)


@pytest.fixture
def template(tmp_path):
    """4:3, a dark-red master background, three renamed layouts and one sample slide."""
    presentation = Presentation()
    layouts = presentation.slide_layouts
    _rename(layouts[0], "Acme Cover")
    _rename(layouts[8], "Acme Product Shot")  # a picture placeholder
    _rename(layouts[1], "Acme Text And Visual")  # a content placeholder only
    _rename(layouts[5], "Acme Heading Only")  # no place for a picture
    fill = presentation.slide_master.background.fill
    fill.solid()
    fill.fore_color.rgb = RGBColor(0x7A, 0x10, 0x10)
    sample = presentation.slides.add_slide(layouts[1])
    sample.shapes.title.text = "Sample slide from the template"
    path = tmp_path / "acme.pptx"
    presentation.save(str(path))
    return path


def test_the_deck_uses_the_templates_layouts_and_master(tmp_path, template):
    rows = [
        {"title": "Boots", "bullets": ["Waterproof", "Vibram sole"]},
        {"title": "Tents", "bullets": ["Two-person"], "layout": "Acme Text And Visual"},
        {"title": "Stoves", "description": "A camping stove.", "layout": "acme product shot"},
    ]
    out = tmp_path / "acme-deck.pptx"
    result = make_deck(rows, out, template=template, engine="instant", title="Acme outdoors")
    assert result.ok
    deck = Presentation(str(out))
    slides = list(deck.slides)
    assert [s.slide_layout.name for s in slides] == [
        "Acme Cover",
        "Acme Product Shot",
        "Acme Text And Visual",
        "Acme Product Shot",
    ]
    assert [s.shapes.title.text for s in slides] == ["Acme outdoors", "Boots", "Tents", "Stoves"]
    assert "Sample slide from the template" not in [s.shapes.title.text for s in slides]
    assert (deck.slide_width, deck.slide_height) == (9144000, 6858000)  # the template's 4:3
    master_fill = slides[1].slide_layout.slide_master.background.fill
    assert master_fill.fore_color.rgb == RGBColor(0x7A, 0x10, 0x10)
    for slide in (slides[1], slides[3]):  # the picture placeholder, filled
        (picture,) = slide_pictures(slide)
        area = next(
            ph for ph in slide.slide_layout.placeholders if ph.placeholder_format.type == 18
        )  # PICTURE
        assert (picture.left, picture.top, picture.width, picture.height) == (
            area.left,
            area.top,
            area.width,
            area.height,
        )
        assert shown_aspect(picture) == pytest.approx(area.width / area.height, rel=0.01)
    assert "Waterproof\nVibram sole" in [
        ph.text_frame.text for ph in slides[1].placeholders if ph.has_text_frame
    ]


def test_a_content_placeholder_is_shared_by_the_bullets_and_the_picture(tmp_path, template):
    rows = [
        {"title": "Tents", "bullets": ["Two-person", "2.1 kg"], "layout": "Acme Text And Visual"}
    ]
    make_deck(rows, tmp_path / "d.pptx", template=template, engine="instant")
    slide = list(Presentation(str(tmp_path / "d.pptx")).slides)[1]
    content = next(
        ph for ph in slide.slide_layout.placeholders if ph.placeholder_format.type == 7
    )  # OBJECT
    (picture,) = slide_pictures(slide)
    (text,) = [ph for ph in slide.placeholders if ph.placeholder_format.idx == 1]
    assert text.text_frame.text == "Two-person\n2.1 kg"
    # the bullets keep the left part, the picture the right part, inside the content box
    assert text.left == content.left and text.left + text.width < picture.left
    assert picture.left + picture.width == pytest.approx(content.left + content.width, abs=2)
    assert (picture.top, picture.height) == (content.top, content.height)
    assert shown_aspect(picture) == pytest.approx(picture.width / picture.height, rel=0.01)


def test_a_layout_without_a_picture_area_is_refused_before_any_picture(tmp_path, template):
    rows = [{"title": "One"}, {"title": "Two", "layout": "Acme Heading Only"}]
    with pytest.raises(SlideInputError, match="slide 2: layout 'Acme Heading Only' has no picture"):
        make_deck(rows, tmp_path / "d.pptx", template=template, engine="instant")
    assert not (tmp_path / "d-images").exists()


def test_a_file_that_is_not_a_deck_is_refused(tmp_path):
    bogus = tmp_path / "brand.pptx"
    bogus.write_text("not a zip")
    with pytest.raises(SlideInputError, match="cannot be opened as a .pptx file"):
        make_deck([{"title": "One"}], tmp_path / "d.pptx", template=bogus, engine="instant")
