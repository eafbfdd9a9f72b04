"""Writing the .pptx: a title slide, then one slide per row with its picture filling the layout's
picture area, its title and bullets, and how the picture was made in the speaker notes."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pptx.enum.shapes import PP_PLACEHOLDER
from pptx.oxml.ns import qn
from pptx.util import Emu, Pt

from gouache.decks.fitting import BODY_SIZES, BOLD_EM, TITLE_SIZES, fitting_size
from gouache.decks.layouts import PictureArea, title_layout, title_placeholder
from gouache.decks.pictures import Picture
from gouache.decks.slides import DeckSpec, Slide

TEXT_TYPES = (PP_PLACEHOLDER.BODY, PP_PLACEHOLDER.OBJECT, PP_PLACEHOLDER.SUBTITLE)


@dataclass(frozen=True)
class PlannedSlide:
    slide: Slide
    layout: Any
    area: PictureArea
    prompt: str
    seed: int


@dataclass(frozen=True)
class Filled:
    """What goes in a slide's picture area: a made picture, or a stand-in and the reason."""

    image: Path
    picture: Picture | None
    error: str | None = None


def write_deck(
    presentation: Any,
    spec: DeckSpec,
    planned: list[PlannedSlide],
    filled: dict[int, Filled],
    out: Path,
    *,
    builtin: bool = False,
) -> None:
    """`builtin`: the deck uses gouache's own design, whose type may be sized to fit here (a
    template's type is left as its designer set it)."""
    _title_slide(presentation, spec)
    for plan in planned:
        slide = _content_slide(presentation, plan, filled[plan.slide.number])
        if builtin:
            _fit_type(slide)
    out.parent.mkdir(parents=True, exist_ok=True)
    temp = out.with_name(f".{out.name}.part")
    presentation.save(str(temp))
    os.replace(temp, out)


def _title_slide(presentation: Any, spec: DeckSpec) -> None:
    slide = presentation.slides.add_slide(title_layout(presentation))
    title = title_placeholder(slide)
    if title is not None:
        title.text = spec.title
    title_idx = _idx(title)
    for ph in list(slide.placeholders):
        if _idx(ph) == title_idx:
            continue
        if ph.placeholder_format.type in TEXT_TYPES and spec.subtitle:
            ph.text = spec.subtitle
        else:
            _remove(ph)


def _content_slide(presentation: Any, plan: PlannedSlide, fill: Filled) -> Any:
    slide = presentation.slides.add_slide(plan.layout)
    title = title_placeholder(slide)
    if title is not None:
        title.text = plan.slide.title
    title_idx = _idx(title)
    shared = _shared_text(slide, plan.area)
    _place_picture(slide, plan.area, fill.image)
    text = [shared] if shared is not None else []
    text += [
        ph
        for ph in slide.placeholders
        if _idx(ph) not in (title_idx, plan.area.idx) and ph.placeholder_format.type in TEXT_TYPES
    ]
    lines = list(plan.slide.bullets) or ([plan.slide.description] if plan.slide.description else [])
    if text and lines:
        frame = text[0].text_frame
        frame.text = lines[0]
        for line in lines[1:]:
            frame.add_paragraph().text = line
        text = text[1:]
    for ph in text:
        _remove(ph)
    for ph in list(slide.placeholders):  # an empty placeholder would show "Click to add text"
        if _idx(ph) != title_idx and ph.has_text_frame and not ph.text_frame.text:
            _remove(ph)
    slide.notes_slide.notes_text_frame.text = notes(plan, fill)
    return slide


def _fit_type(slide: Any) -> None:
    """Set the title's and the bullets' size to one that fits their placeholder."""
    for ph in slide.placeholders:
        if not ph.has_text_frame or not ph.text_frame.text:
            continue
        is_title = ph.placeholder_format.type in (PP_PLACEHOLDER.TITLE, PP_PLACEHOLDER.CENTER_TITLE)
        paragraphs = ph.text_frame.paragraphs
        texts = [p.text for p in paragraphs]
        insets = _insets(slide.slide_layout, ph.placeholder_format.idx)
        if is_title:
            size = fitting_size(
                texts, ph.width, ph.height, TITLE_SIZES, em=BOLD_EM, insets_emu=insets
            )
        else:
            size = fitting_size(
                texts,
                ph.width,
                ph.height,
                BODY_SIZES,
                indent_pt=22,
                spacing_pt=6,
                insets_emu=insets,
            )
        for paragraph in paragraphs:
            for run in paragraph.runs:
                run.font.size = Pt(size)


def _insets(layout: Any, idx: int) -> tuple[int, int]:
    """The layout placeholder's inner margins (left + right, top + bottom), in EMU."""
    horizontal, vertical = 91440 * 2, 45720 * 2  # DrawingML's defaults
    for ph in layout.placeholders:
        if ph.placeholder_format.idx == idx and ph.has_text_frame:
            body = ph.text_frame._txBody.find(qn("a:bodyPr"))
            horizontal = int(body.get("lIns", 91440)) + int(body.get("rIns", 91440))
            vertical = int(body.get("tIns", 45720)) + int(body.get("bIns", 45720))
    return horizontal, vertical


def _shared_text(slide: Any, area: PictureArea) -> Any | None:
    """The content placeholder shrunk to the box the bullets keep, when the picture shares it."""
    if area.text_box is None:
        return None
    placeholder = next(ph for ph in slide.placeholders if ph.placeholder_format.idx == area.idx)
    placeholder.left, placeholder.top, placeholder.width, placeholder.height = (
        Emu(value) for value in area.text_box
    )
    return placeholder


def _place_picture(slide: Any, area: PictureArea, image: Path) -> None:
    if area.text_box is not None:  # the placeholder keeps the text; the picture goes beside it
        _add_picture(slide, area, image)
        return
    placeholder = next(ph for ph in slide.placeholders if ph.placeholder_format.idx == area.idx)
    if area.is_picture_placeholder:
        placeholder.insert_picture(str(image))  # the image has the area's aspect: no crop needed
        return
    _remove(placeholder)  # a content placeholder: the picture takes its box
    _add_picture(slide, area, image)


def _add_picture(slide: Any, area: PictureArea, image: Path) -> None:
    picture = slide.shapes.add_picture(
        str(image), Emu(area.left), Emu(area.top), Emu(area.width), Emu(area.height)
    )
    tree = slide.shapes._spTree
    tree.remove(picture._element)
    tree.insert(2, picture._element)  # behind the slide's text


def notes(plan: PlannedSlide, fill: Filled) -> str:
    lines = [f"Prompt: {plan.prompt}"]
    picture = fill.picture
    if picture is None:
        lines += [
            f"Seed: {plan.seed}",
            f"Picture not made: {fill.error}",
            "Run the same command again to make it; the other pictures are kept.",
        ]
        return "\n".join(lines)
    seed = picture.seed if picture.seed is not None else "not sent (the endpoint takes none)"
    lines += [
        f"Seed: {seed}",
        f"Deployment: {picture.deployment}",
        f"Operation id: {picture.operation_id or '-'}",
        f"Size: {picture.made_size}, cropped to fill the picture area",
    ]
    if picture.revised_prompt and picture.revised_prompt != plan.prompt:
        lines.append(f"Revised prompt: {picture.revised_prompt}")
    return "\n".join(lines)


def _idx(placeholder: Any) -> int | None:
    # python-pptx makes a new proxy object on every access: compare placeholders by idx
    return None if placeholder is None else placeholder.placeholder_format.idx


def _remove(shape: Any) -> None:
    element = shape.element
    element.getparent().remove(element)
