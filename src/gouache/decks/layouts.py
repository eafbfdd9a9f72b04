"""Slide layouts: the built-in 16:9 set, a company template's own, and where a layout's picture goes.

Without a template, decks use four layouts made here from python-pptx's default template, resized
to 16:9: "Title Slide", "Picture Right", "Picture Left" and "Full Picture". With a template, its
own layouts (and so its fonts and colours) are used; a content slide needs a layout with a
picture placeholder, or at least a content placeholder whose area the picture takes.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import PP_PLACEHOLDER
from pptx.oxml.ns import qn
from pptx.util import Emu

from gouache.decks.palette import Palette, hex_to_rgb, ink_for
from gouache.decks.slides import SlideInputError

WIDE = (Emu(12192000), Emu(6858000))  # 13.333 x 7.5 in
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
        if any(_type(ph) == PP_PLACEHOLDER.CENTER_TITLE for ph in layout.placeholders):
            return layout
    return presentation.slide_layouts[0]


def picture_area(layout: Any) -> PictureArea | None:
    """The layout's picture placeholder, else its largest content placeholder, else None."""
    pictures = [ph for ph in layout.placeholders if _type(ph) == PP_PLACEHOLDER.PICTURE]
    content = [ph for ph in layout.placeholders if _type(ph) == PP_PLACEHOLDER.OBJECT]
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
        _type(ph) in TEXT_TYPES and ph.placeholder_format.idx != idx for ph in layout.placeholders
    )


def title_placeholder(layout_or_slide: Any) -> Any | None:
    for ph in layout_or_slide.placeholders:
        if _type(ph) in TITLE_TYPES:
            return ph
    return None


def _type(placeholder: Any) -> Any:
    return placeholder.placeholder_format.type


def _remove_slides(presentation: Any) -> None:
    ids = presentation.slides._sldIdLst
    for slide_id in list(ids):
        presentation.part.drop_rel(slide_id.get(qn("r:id")))
        ids.remove(slide_id)


# -- the built-in design ---------------------------------------------------------------------------

IN = 914400  # EMU per inch


def builtin_presentation(palette: Palette) -> Any:
    """python-pptx's default template at 16:9, reduced to the four layouts decks use."""
    presentation = Presentation()
    presentation.slide_width, presentation.slide_height = WIDE
    layouts = list(presentation.slide_layouts)
    title, pic_right, pic_left, full = layouts[0], layouts[8], layouts[7], layouts[5]
    _rename(pic_right, "Picture Right")
    _rename(pic_left, "Picture Left")
    _rename(full, "Full Picture")
    # "Content with Caption" becomes "Picture Left": its content placeholder takes pictures.
    _placeholder(pic_left, 1).element.ph.set("type", "pic")
    # "Title Only" becomes "Full Picture": a picture placeholder and a body under the title.
    tree = full.shapes._spTree
    picture = copy.deepcopy(_placeholder(pic_right, 1).element)
    body = copy.deepcopy(_placeholder(pic_right, 2).element)
    tree.insert(2, picture)  # first shape: behind the title
    tree.append(body)
    for layout in layouts:
        if layout not in (title, pic_right, pic_left, full):
            _remove_layout(presentation, layout)

    w, h = WIDE
    _place_master(presentation.slide_master, w, h)
    _place(title, 0, IN, int(2.3 * IN), w - 2 * IN, int(1.5 * IN))
    _place(title, 1, IN, int(3.9 * IN), w - 2 * IN, int(1.2 * IN))
    half = w // 2
    _place(pic_right, 0, int(0.6 * IN), int(0.6 * IN), half - int(1.1 * IN), int(1.5 * IN))
    _place(pic_right, 2, int(0.6 * IN), int(2.3 * IN), half - int(1.1 * IN), int(4.2 * IN))
    _place(pic_right, 1, half, 0, w - half, h)
    _place(pic_left, 1, 0, 0, half, h)
    _place(pic_left, 0, half + int(0.5 * IN), int(0.6 * IN), half - int(1.1 * IN), int(1.5 * IN))
    _place(pic_left, 2, half + int(0.5 * IN), int(2.3 * IN), half - int(1.1 * IN), int(4.2 * IN))
    _place(full, 1, 0, 0, w, h)
    # a translucent panel down the left third: engines tend to centre their subject
    panel = int(4.4 * IN)
    _place(full, 0, 0, 0, panel, int(3.0 * IN))
    _place(full, 2, 0, int(3.0 * IN), panel, h - int(3.0 * IN))
    _style(presentation, palette, title, (pic_right, pic_left), full)
    return presentation


def _rename(layout: Any, name: str) -> None:
    layout._element.cSld.set("name", name)


def _placeholder(layout: Any, idx: int) -> Any:
    for ph in layout.placeholders:
        if ph.placeholder_format.idx == idx:
            return ph
    raise KeyError(idx)


def _place(layout: Any, idx: int, left: int, top: int, width: int, height: int) -> None:
    ph = _placeholder(layout, idx)
    ph.left, ph.top, ph.width, ph.height = Emu(left), Emu(top), Emu(width), Emu(height)


def _place_master(master: Any, width: int, height: int) -> None:
    margin = int(0.5 * IN)
    for shape in master.placeholders:
        kind = shape.placeholder_format.type
        if kind in (PP_PLACEHOLDER.TITLE, PP_PLACEHOLDER.BODY):
            shape.left, shape.width = Emu(margin), Emu(width - 2 * margin)
        elif kind in FOOTER_TYPES:
            shape.top = Emu(height - int(0.5 * IN))
    for layout in master.slide_layouts:
        for ph in layout.placeholders:
            if _type(ph) in FOOTER_TYPES:
                ph.element.getparent().remove(ph.element)  # no dates or footers on generated decks


def _remove_layout(presentation: Any, layout: Any) -> None:
    master = presentation.slide_master
    ids = master._element.get_or_add_sldLayoutIdLst()
    for entry in list(ids):
        if master.part.related_part(entry.rId) is layout.part:
            master.part.drop_rel(entry.rId)
            ids.remove(entry)


def _style(presentation: Any, palette: Palette, title: Any, split: tuple[Any, ...], full: Any):
    """Palette colours on the built-in layouts: a coloured title slide, coloured titles, and a
    translucent panel for the title and bullets of full pictures."""
    primary = hex_to_rgb(palette.colours[0])
    fill = title.background.fill
    fill.solid()
    fill.fore_color.rgb = RGBColor(*primary)
    ink = ink_for(primary, palette)
    for idx in (0, 1):
        _text_colour(_placeholder(title, idx), ink)
    for layout in split:
        _text_colour(_placeholder(layout, 0), primary)
        _text_colour(_placeholder(layout, 2), (51, 51, 51))
        _font_size(_placeholder(layout, 0), 3600)
        _font_size(_placeholder(layout, 2), 2000)
    band_ink = ink_for(primary, palette)
    for idx in (0, 2):
        ph = _placeholder(full, idx)
        ph.fill.solid()
        ph.fill.fore_color.rgb = RGBColor(*primary)
        colour = ph.element.spPr.find(qn("a:solidFill")).find(qn("a:srgbClr"))
        alpha = colour.makeelement(qn("a:alpha"), {"val": "85000"})
        colour.append(alpha)
        _text_colour(ph, band_ink)
        pad = ph.element.txBody.find(qn("a:bodyPr"))
        for side in ("lIns", "rIns"):
            pad.set(side, str(int(0.5 * IN)))
        pad.set("anchor", "b" if idx == 0 else "t")
        pad.set("bIns" if idx == 0 else "tIns", str(int(0.2 * IN)))
    _font_size(_placeholder(full, 0), 3600)
    _font_size(_placeholder(full, 2), 2000)
    _first_level(_placeholder(full, 0)).set("algn", "l")
    for layout in (*split, full):  # long titles and many bullets shrink to fit their box
        for idx in (0, 2):
            _shrink_to_fit(_placeholder(layout, idx))
    for layout in (title, full):  # bold titles, as the picture layouts' captions have
        _default_run_props(_first_level(_placeholder(layout, 0))).set("b", "1")
    for layout in split:
        _bullets(_placeholder(layout, 2))
    _bullets(_placeholder(full, 2))


def _shrink_to_fit(placeholder: Any) -> None:
    body = placeholder.element.get_or_add_txBody().find(qn("a:bodyPr"))
    for tag in ("a:noAutofit", "a:spAutoFit", "a:normAutofit"):
        for old in body.findall(qn(tag)):
            body.remove(old)
    body.append(body.makeelement(qn("a:normAutofit"), {}))


def _first_level(placeholder: Any) -> Any:
    return _levels(placeholder)[0]


def _bullets(placeholder: Any) -> None:
    """Round bullets on the first level (the caption placeholders this design reuses have none)."""
    level = _first_level(placeholder)
    level.set("marL", str(int(0.3 * IN)))
    level.set("indent", str(-int(0.3 * IN)))
    for old in level.findall(qn("a:buNone")):
        level.remove(old)
    bullet = level.makeelement(qn("a:buChar"), {"char": "\u2022"})
    level.insert(0, bullet)
    spacing = level.makeelement(qn("a:spcBef"), {})
    spacing.append(spacing.makeelement(qn("a:spcPts"), {"val": "600"}))
    level.insert(0, spacing)


def _text_colour(placeholder: Any, rgb: tuple[int, int, int]) -> None:
    for level in _levels(placeholder):
        props = _default_run_props(level)
        for old in props.findall(qn("a:solidFill")):
            props.remove(old)
        solid = props.makeelement(qn("a:solidFill"), {})
        solid.append(solid.makeelement(qn("a:srgbClr"), {"val": "".join(f"{c:02X}" for c in rgb)}))
        props.insert(0, solid)


def _font_size(placeholder: Any, hundredths: int) -> None:
    for level in _levels(placeholder)[:1]:
        _default_run_props(level).set("sz", str(hundredths))


def _levels(placeholder: Any) -> list[Any]:
    body = placeholder.element.get_or_add_txBody()
    lst = body.find(qn("a:lstStyle"))
    if lst is None:
        lst = body.makeelement(qn("a:lstStyle"), {})
        body.insert(1, lst)
    if lst.find(qn("a:lvl1pPr")) is None:
        lst.insert(0, lst.makeelement(qn("a:lvl1pPr"), {}))
    return list(lst)


def _default_run_props(level: Any) -> Any:
    props = level.find(qn("a:defRPr"))
    if props is None:
        props = level.makeelement(qn("a:defRPr"), {})
        level.append(props)
    return props
