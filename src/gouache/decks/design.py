"""The built-in 16:9 design: python-pptx's default template resized to 16:9 and reduced to the
four layouts decks use ("Title Slide", "Picture Right", "Picture Left", "Full Picture"), in the
deck's palette. Decks made with a company template never come here."""

from __future__ import annotations

import copy
from typing import Any

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import PP_PLACEHOLDER
from pptx.oxml.ns import qn
from pptx.util import Emu

from gouache.decks.layouts import FOOTER_TYPES, placeholder_type
from gouache.decks.palette import Palette, hex_to_rgb, ink_for

WIDE = (Emu(12192000), Emu(6858000))  # 13.333 x 7.5 in

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
            if placeholder_type(ph) in FOOTER_TYPES:
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
