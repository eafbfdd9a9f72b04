"""Slide layouts: the built-in 16:9 set, a company template's own, and where a layout's picture goes.

Without a template, decks use the four layouts of the built-in design (design.py): "Title Slide",
"Picture Right", "Picture Left" and "Full Picture". With a template, its
own layouts (and so its fonts and colours) are used; a content slide needs a layout with a
picture placeholder, or at least a content placeholder whose area the picture takes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pptx import Presentation
from pptx.enum.shapes import PP_PLACEHOLDER
from pptx.oxml.ns import qn

from gouache.decks.palette import Palette
from gouache.decks.slides import SlideInputError

PICTURE_LAYOUTS = ("Picture Right", "Picture Left", "Full Picture")
TITLE_TYPES = (PP_PLACEHOLDER.TITLE, PP_PLACEHOLDER.CENTER_TITLE)
TEXT_TYPES = (PP_PLACEHOLDER.BODY, PP_PLACEHOLDER.OBJECT, PP_PLACEHOLDER.SUBTITLE)
FOOTER_TYPES = (PP_PLACEHOLDER.DATE, PP_PLACEHOLDER.FOOTER, PP_PLACEHOLDER.SLIDE_NUMBER)


@dataclass(frozen=True)
class PictureArea:
    """Where a layout puts its picture: a placeholder's `idx` and its box in EMU."""

    idx: int
    is_picture_placeholder: bool
    left: int
    top: int
    width: int
    height: int
    # set when a content placeholder is shared: the text keeps this box, the picture the rest
    text_box: tuple[int, int, int, int] | None = None

    @property
    def aspect(self) -> float:
        return self.width / self.height

    def shared_with_text(self) -> PictureArea:
        """The right half for the picture, the left half (the placeholder, so the template's
        text style holds) for the bullets: for layouts whose one content placeholder would
        otherwise have to hold both."""
        gap = self.width // 20
        half = (self.width - gap) // 2
        return PictureArea(
            idx=self.idx,
            is_picture_placeholder=False,
            left=self.left + half + gap,
            top=self.top,
            width=self.width - half - gap,
            height=self.height,
            text_box=(self.left, self.top, half, self.height),
        )


def open_deck(template: str | Path | None, palette: Palette) -> tuple[Any, bool]:
    """A presentation to add slides to, and whether it is the built-in design (styled here)."""
    if template is None:
        from gouache.decks.design import builtin_presentation

        return builtin_presentation(palette), True
    path = Path(template)
    if not path.is_file():
        raise SlideInputError(f"The template {path} does not exist.", param="template")
    try:
        presentation = Presentation(str(path))
    except Exception as exc:  # python-pptx raises several types for a file that is not a deck
        raise SlideInputError(
            f"The template {path} cannot be opened as a .pptx file ({type(exc).__name__}: {exc}). "
            "Save it from PowerPoint as a .pptx presentation (not .potx).",
            param="template",
        ) from exc
    _remove_slides(presentation)  # a template's sample slides are not part of the deck
    return presentation, False


def layout_names(presentation: Any) -> list[str]:
    return [layout.name for layout in presentation.slide_layouts]


def find_layout(presentation: Any, name: str, where: str) -> Any:
    for layout in presentation.slide_layouts:
        if layout.name == name:
            return layout
    for layout in presentation.slide_layouts:  # forgive case, never spelling
        if layout.name.lower() == name.lower():
            return layout
    usable = [layout.name for layout in presentation.slide_layouts if picture_area(layout)]
    raise SlideInputError(
        f"unknown layout {name!r}; layouts with a picture area: {', '.join(map(repr, usable))}.",
        where=where,
        param="layout",
    )


def default_layouts(presentation: Any, builtin: bool) -> list[Any]:
    """The layouts slides without a `layout` take, in turn."""
    if builtin:
        return [find_layout(presentation, name, "deck") for name in PICTURE_LAYOUTS[:2]]
    titled = [layout for layout in presentation.slide_layouts if title_placeholder(layout)]
    for layout in titled:  # a picture placeholder first, then a content placeholder
        area = picture_area(layout)
        if area is not None and area.is_picture_placeholder:
            return [layout]
    for layout in titled:
        if picture_area(layout) is not None:
            return [layout]
    raise SlideInputError(
        "The template has no layout with a title and a picture or content placeholder; add one "
        f"in PowerPoint's slide master. Its layouts: {', '.join(layout_names(presentation))}.",
        param="template",
    )


def title_layout(presentation: Any) -> Any:
    for layout in presentation.slide_layouts:
        if any(placeholder_type(ph) == PP_PLACEHOLDER.CENTER_TITLE for ph in layout.placeholders):
            return layout
    return presentation.slide_layouts[0]


def picture_area(layout: Any) -> PictureArea | None:
    """The layout's picture placeholder, else its largest content placeholder, else None."""
    pictures = [ph for ph in layout.placeholders if placeholder_type(ph) == PP_PLACEHOLDER.PICTURE]
    content = [ph for ph in layout.placeholders if placeholder_type(ph) == PP_PLACEHOLDER.OBJECT]
    candidates = pictures or content
    if not candidates:
        return None
    best = max(candidates, key=lambda ph: (ph.width or 0) * (ph.height or 0))
    if not best.width or not best.height:
        return None
    return PictureArea(
        idx=best.placeholder_format.idx,
        is_picture_placeholder=bool(pictures),
        left=int(best.left),
        top=int(best.top),
        width=int(best.width),
        height=int(best.height),
    )


def has_text_besides(layout: Any, idx: int) -> bool:
    """Whether the layout has a body or content placeholder other than `idx` for bullets."""
    return any(
        placeholder_type(ph) in TEXT_TYPES and ph.placeholder_format.idx != idx
        for ph in layout.placeholders
    )


def title_placeholder(layout_or_slide: Any) -> Any | None:
    for ph in layout_or_slide.placeholders:
        if placeholder_type(ph) in TITLE_TYPES:
            return ph
    return None


def placeholder_type(placeholder: Any) -> Any:
    return placeholder.placeholder_format.type


def _remove_slides(presentation: Any) -> None:
    ids = presentation.slides._sldIdLst
    for slide_id in list(ids):
        presentation.part.drop_rel(slide_id.get(qn("r:id")))
        ids.remove(slide_id)
