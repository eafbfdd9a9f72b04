"""Compositions that are not scenes: product shots, slide backgrounds, brand boards, patterns.

These are the pictures people put on slides and landing pages. A slide background keeps a calm
area free for a title (on the left of a wide picture, at the top of a tall one) and pushes its
decoration to the edges; a brand board shows one palette applied to a badge, swatches, a pattern
and a card; a pattern tiles a motif. All use the plan's palette, so a set of pictures made from
one prompt agree with each other.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import ImageDraw

from .colours import RGB, contrast_ink, luminance, mix, rgb_to_hex, shade
from .compose import Placement
from .concepts import Concept
from .figures import draw_placement
from .fonts import FONT_FILES, font_path
from .lettering import type_font
from .loading import FREETYPE
from .render import Canvas
from .scenes import Context, wave_profile
from .styles import Style


def abstract_background(
    ctx: Context, palette: list[RGB], keep_clear: bool, stated: int = 0
) -> tuple[float, float, float, float]:
    """A gradient field with soft shapes at the edges. Returns the calm area (for a title).

    `stated`: how many of the palette's first colours the prompt named. The field is the first
    colour and the two blobs the next two; a fourth and fifth named colour become the waves along
    the bottom, in full, so that every named colour can be seen. Otherwise the waves are a
    translucent echo of the last accent."""
    canvas, rng, w, h = ctx.canvas, ctx.rng, ctx.w, ctx.h
    base = ctx.c(ctx.background or palette[0])
    accents = [ctx.c(c) for c in palette[1:]] or [shade(base, -0.4), shade(base, 0.3)]
    second = shade(base, 0.25) if luminance(base) > 0.3 else shade(base, -0.25)
    canvas.diagonal_gradient(
        [(0.0, base), (1.0, mix(base, second, 0.9))], angle=float(rng.uniform(0.2, 1.2))
    )
    short = canvas.short
    wide = w >= h
    clear = (
        (w * 0.06, h * 0.22, w * 0.58, h * 0.78)
        if wide
        else (w * 0.08, h * 0.08, w * 0.92, h * 0.45)
    )
    if w == h:
        clear = (w * 0.08, h * 0.2, w * 0.62, h * 0.62)
    rest = accents[2 : max(2, stated - 1)]  # the named colours the blobs leave out

    def waves() -> None:
        """A wave band along the bottom: named colours in full, or an echo of the last accent."""
        band = accents[-1]
        back, back_opacity = (rest[1], 1.0) if len(rest) > 1 else (band, 0.55)
        front = rest[0] if rest else mix(band, base, 0.3)
        canvas.skyline(
            wave_profile(ctx, h * rng.uniform(0.84, 0.9), h * 0.03, 1.2), back, opacity=back_opacity
        )
        canvas.skyline(wave_profile(ctx, h * rng.uniform(0.9, 0.95), h * 0.025, 0.9), front)

    if rest:
        waves()  # named colours go under the blobs, so that neither hides the other
    # Large blobs hanging off two corners.
    corners = [(w, 0), (0, h), (w, h), (0, 0)]
    if keep_clear:
        corners = (
            [(w * 1.05, -h * 0.05), (w * 1.05, h * 1.05)]
            if wide
            else [(-w * 0.05, h * 1.05), (w * 1.05, h * 1.05)]
        )
    picked = rng.permutation(len(corners))[:2]
    for k, idx in enumerate(picked):
        x, y = corners[int(idx)]
        r = short * rng.uniform(0.32, 0.5)
        colour = accents[k % len(accents)]
        canvas.circle(
            x + rng.uniform(-0.1, 0.1) * short,
            y + rng.uniform(-0.1, 0.1) * short,
            r,
            colour,
            opacity=1.0 if k + 2 <= stated else 0.9,  # a named colour is shown as named
            background=True,
        )
        canvas.ring(x, y, r * 1.35, short * 0.012, colour, opacity=0.6, background=True)
    if not rest and rng.random() < 0.7:
        waves()
    # A grid of dots near a free corner, the small accent designers like.
    dot = mix(accents[0], (255, 255, 255), 0.3) if luminance(base) < 0.5 else shade(accents[0], 0.1)
    gx = w * (0.72 if wide else 0.1) if keep_clear else w * rng.uniform(0.08, 0.7)
    gy = h * (0.12 if wide else 0.55) if keep_clear else h * rng.uniform(0.1, 0.6)
    step = short * 0.035
    for i in range(5):
        for j in range(4):
            canvas.circle(gx + i * step, gy + j * step, short * 0.006, dot, 0.8, background=True)
    # Confetti outside the calm area.
    for _ in range(int(rng.integers(6, 12))):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        if keep_clear and clear[0] < x < clear[2] and clear[1] < y < clear[3]:
            continue
        colour = accents[int(rng.integers(len(accents)))]
        kind = int(rng.integers(3))
        s = short * rng.uniform(0.01, 0.022)
        if kind == 0:
            canvas.circle(x, y, s, colour, background=True)
        elif kind == 1:
            canvas.ring(x, y, s * 1.4, s * 0.5, colour, background=True)
        else:
            a = rng.uniform(0, math.pi)
            pts = [
                (x + math.cos(a + t) * s * 1.6, y + math.sin(a + t) * s * 1.6)
                for t in (0, 2.1, 4.2)
            ]
            canvas.polygon(pts, colour, background=True)
    return clear


def pattern_background(
    ctx: Context, palette: list[RGB], kind: str | None, motif: Concept | None, style: Style
) -> None:
    canvas, rng, w, h = ctx.canvas, ctx.rng, ctx.w, ctx.h
    base = ctx.c(ctx.background or palette[0])
    accents = [ctx.c(c) for c in palette[1:]] or [shade(base, 0.3), shade(base, -0.4)]
    canvas.vertical_gradient([(0, base), (1, base)])
    short = canvas.short
    kind = kind or ["dots", "stripes", "waves", "confetti", "grid"][int(rng.integers(5))]
    cell = short * rng.uniform(0.1, 0.16)
    if motif is not None:
        cell = short * rng.uniform(0.17, 0.24)
        size = cell * 0.6
        for j, y in enumerate(np.arange(cell * 0.5, h + cell, cell)):
            for i, x in enumerate(
                np.arange(cell * 0.5 + (cell * 0.5 if j % 2 else 0), w + cell, cell)
            ):
                colour = accents[(i + j) % len(accents)]
                placement = Placement(0, float(x), float(y), size, colour, False)
                draw_placement(canvas, placement, motif, style, base)
        return
    if kind in ("stripes", "striped"):
        step = cell * 0.5
        for k, x in enumerate(np.arange(-h, w + h, step)):
            if k % 2:
                canvas.polygon(
                    [(x, 0), (x + step * 0.5, 0), (x + step * 0.5 - h, h), (x - h, h)],
                    accents[(k // 2) % len(accents)],
                    background=True,
                )
    elif kind == "waves":
        for k, y in enumerate(np.arange(0, h + cell, cell * 0.5)):
            canvas.skyline(
                wave_profile(ctx, float(y), cell * 0.12, w / cell * 0.5),
                accents[k % len(accents)] if k % 2 else base,
            )
    elif kind in ("grid", "checkered"):
        for j, y in enumerate(np.arange(0, h, cell)):
            for i, x in enumerate(np.arange(0, w, cell)):
                if (i + j) % 2:
                    canvas.rect((x, y, x + cell, y + cell), accents[0], background=True)
    elif kind == "confetti":
        for _ in range(int(w * h / (cell * cell) * 1.5)):
            x, y = rng.uniform(0, w), rng.uniform(0, h)
            colour = accents[int(rng.integers(len(accents)))]
            a, s = rng.uniform(0, math.pi), cell * 0.12
            canvas.polygon(
                [
                    (x + math.cos(a) * s, y + math.sin(a) * s),
                    (x + math.cos(a + 0.4) * s * 0.3, y + math.sin(a + 0.4) * s * 0.3),
                    (x - math.cos(a) * s, y - math.sin(a) * s),
                    (x - math.cos(a + 0.4) * s * 0.3, y - math.sin(a + 0.4) * s * 0.3),
                ],
                colour,
                background=True,
            )
    else:
        for j, y in enumerate(np.arange(cell * 0.5, h + cell, cell)):
            for i, x in enumerate(
                np.arange(cell * 0.5 + (cell * 0.5 if j % 2 else 0), w + cell, cell)
            ):
                canvas.circle(x, y, cell * 0.16, accents[(i + j) % len(accents)], background=True)


def brand_board(
    ctx: Context, palette: list[RGB], motifs: list[Concept], style: Style, transparent: bool
) -> None:
    """One palette applied to the pieces of a brand kit: a badge, swatches, a pattern tile, a card
    and an icon row, laid out as a board whose grid follows the aspect ratio."""
    canvas, rng, w, h = ctx.canvas, ctx.rng, ctx.w, ctx.h
    colours = [ctx.c(c) for c in palette]
    light = max(colours, key=luminance)
    board = mix(light, (255, 255, 255), 0.6) if luminance(light) < 0.9 else light
    canvas.vertical_gradient([(0, board), (1, shade(board, 0.04))])
    dark = [c for c in colours if luminance(c) < 0.8] or [shade(board, 0.6)]
    primary, accents = dark[0], (dark[1:] or [shade(dark[0], -0.3)])
    cols, rows = (3, 2) if w >= h else (2, 3)
    if abs(w - h) < 2:
        cols, rows = 2, 2
    gap = canvas.short * 0.04
    cw = (w - gap * (cols + 1)) / cols
    ch = (h - gap * (rows + 1)) / rows
    cells = [(gap + i * (cw + gap), gap + j * (ch + gap)) for j in range(rows) for i in range(cols)]
    kinds = ["badge", "swatches", "pattern", "card", "icons", "gradient"]
    order = [kinds[0]] + [kinds[1 + int(i)] for i in rng.permutation(len(kinds) - 1)]
    motif = motifs[0] if motifs else None
    for (x, y), kind in zip(cells, order, strict=False):
        box = (x, y, x + cw, y + ch)
        canvas.rounded_rect(
            (x + gap * 0.12, y + gap * 0.18, x + cw + gap * 0.12, y + ch + gap * 0.18),
            gap * 0.5,
            shade(board, 0.18),
            0.5,
        )
        fill = (255, 255, 255) if kind not in ("gradient", "pattern") else primary
        canvas.rounded_rect(box, gap * 0.5, fill)
        cx, cy, s = x + cw / 2, y + ch / 2, min(cw, ch)
        if kind == "badge":
            canvas.circle(cx, cy, s * 0.34, primary)
            canvas.ring(cx, cy, s * 0.4, s * 0.02, accents[0])
            if motif is not None:
                draw_placement(
                    canvas,
                    Placement(0, cx, cy, s * 0.36, contrast_ink(primary), False),
                    motif,
                    flat_of(style),
                    primary,
                )
            else:
                canvas.circle(cx - s * 0.08, cy, s * 0.14, accents[0])
                canvas.circle(cx + s * 0.08, cy, s * 0.14, contrast_ink(primary), 0.85)
        elif kind == "swatches":
            n = len(colours)
            sw = cw * 0.8 / n
            label_size = max(9, int(min(sw * 0.2, ch * 0.07)))
            draw = ImageDraw.Draw(canvas.image)
            for k, colour in enumerate(colours):
                sx = x + cw * 0.1 + k * sw
                canvas.rounded_rect(
                    (sx + sw * 0.08, y + ch * 0.15, sx + sw * 0.92, y + ch * 0.68),
                    sw * 0.15,
                    colour if luminance(colour) < 0.97 else shade(colour, 0.05),
                )
                label = rgb_to_hex(colour).upper()
                with FREETYPE:
                    font = type_font(label_size, 600)
                    tw = draw.textlength(label, font=font)
                    draw.text(
                        (sx + sw / 2 - tw / 2, y + ch * 0.74), label, font=font, fill=(70, 74, 86)
                    )
        elif kind == "pattern":
            step = s * 0.16
            for j, yy in enumerate(np.arange(y + step * 0.7, y + ch - step * 0.3, step)):
                for i, xx in enumerate(np.arange(x + step * 0.7, x + cw - step * 0.3, step)):
                    colour = accents[(i + j) % len(accents)] if (i + j) % 3 else board
                    canvas.circle(
                        xx + (step * 0.5 if j % 2 else 0) - step * 0.25, yy, step * 0.22, colour
                    )
        elif kind == "card":
            canvas.rounded_rect((x, y, x + cw, y + ch * 0.3), gap * 0.5, primary)
            canvas.rect((x, y + ch * 0.2, x + cw, y + ch * 0.3), primary)
            for k, frac in enumerate((0.75, 0.6, 0.68)):
                ly = y + ch * (0.42 + k * 0.11)
                canvas.rounded_rect(
                    (x + cw * 0.08, ly, x + cw * (0.08 + frac * 0.84), ly + ch * 0.05),
                    ch * 0.025,
                    (222, 225, 232),
                )
            canvas.rounded_rect(
                (x + cw * 0.08, y + ch * 0.78, x + cw * 0.45, y + ch * 0.9), ch * 0.06, accents[0]
            )
        elif kind == "icons":
            picks = (motifs * 3)[:3] if motifs else []
            for k in range(3):
                ix = x + cw * (0.2 + 0.3 * k)
                colour = [primary, *accents][k % (1 + len(accents))]
                canvas.circle(ix, cy, min(cw * 0.13, ch * 0.3), colour)
                if picks:
                    draw_placement(
                        canvas,
                        Placement(
                            0, ix, cy, min(cw * 0.13, ch * 0.3) * 1.1, contrast_ink(colour), False
                        ),
                        picks[k],
                        flat_of(style),
                        colour,
                    )
        elif kind == "gradient":
            sub = Canvas(int(cw), int(ch))
            sub.diagonal_gradient([(0, primary), (1, accents[0])], angle=0.7)
            mask = _rounded_mask(int(cw), int(ch), gap * 0.5)
            canvas.image.paste(sub.image, (int(x), int(y)), mask)
            canvas.ring(x + cw * 0.8, y + ch * 0.75, s * 0.3, s * 0.03, (255, 255, 255), 0.35)


def flat_of(style: Style) -> Style:
    """Brand pieces are solid marks: keep the style's colours but not its line or glow look."""
    from .styles import Style as _Style

    return _Style("flat", shading=False, shadows=False)


def _rounded_mask(width: int, height: int, radius: float):
    sub = Canvas(width, height, (0, 0, 0))
    sub.rounded_rect((0, 0, width, height), radius, (255, 255, 255))
    return sub.image.convert("L")


def text_font_available() -> bool:
    try:
        return font_path("emoji").with_name("NotoSans[wght].ttf").exists()
    except Exception:  # noqa: BLE001 - only a probe
        return False


__all__ = ["abstract_background", "brand_board", "pattern_background", "FONT_FILES"]


def icon_set(ctx: Context, concepts: list[Concept], colour: RGB, style: Style, draft: int) -> None:
    """A set of icons in one brand colour: a grid of tiles, each with one icon. Drafts alternate
    filled tiles with white icons and white tiles with coloured icons, circles and squares."""
    canvas, w, h = ctx.canvas, ctx.w, ctx.h
    paper = mix(colour, (255, 255, 255), 0.92)
    canvas.vertical_gradient([(0, paper), (1, shade(paper, 0.03))])
    n = len(concepts)
    cols = 4 if w > h * 1.3 else 3
    cols = min(cols, n)
    rows = (n + cols - 1) // cols
    cell = min(w * 0.84 / cols, h * 0.84 / rows)
    x0 = (w - cell * cols) / 2
    y0 = (h - cell * rows) / 2
    filled = draft % 2 == 0
    round_tiles = (draft // 2) % 2 == 1
    for k, concept in enumerate(concepts):
        cx = x0 + cell * (k % cols + 0.5)
        cy = y0 + cell * (k // cols + 0.5)
        r = cell * 0.4
        tile = colour if filled else (255, 255, 255)
        if round_tiles:
            canvas.circle(cx, cy, r, tile)
        else:
            canvas.rounded_rect((cx - r, cy - r, cx + r, cy + r), r * 0.28, tile)
        if not filled:
            canvas.ring(
                cx, cy, r, max(2.0, r * 0.04), mix(colour, (255, 255, 255), 0.6)
            ) if round_tiles else None
        ink = (255, 255, 255) if filled else colour
        draw_placement(
            canvas, Placement(0, cx, cy, r * 1.05, ink, False), concept, flat_of(style), tile
        )


def business_card(
    ctx: Context, lines: list[str], colour: RGB, motif: Concept | None, style: Style, draft: int
) -> None:
    """A business card mock-up: a card of real proportions (85 x 55 mm) with its shadow on a soft
    desk colour, the name set large and a brand-coloured band. Drafts: one card with its band at
    the top, or the back of the card in the brand colour peeking out behind the front."""
    from .lettering import set_lines

    canvas, w, h = ctx.canvas, ctx.w, ctx.h
    desk = mix(colour, (255, 255, 255), 0.86)
    canvas.vertical_gradient([(0, desk), (1, shade(desk, 0.06))])
    cw = min(w * 0.78, h * 0.78 * 85 / 55)
    ch = cw * 55 / 85
    cx, cy = w / 2, h / 2
    radius = ch * 0.05
    if draft % 2 == 1:
        # The back of the card, in the brand colour, behind and above the front.
        bx, by = cx - cw * 0.08, cy - ch * 0.16
        canvas.rounded_rect((bx - cw / 2, by - ch / 2, bx + cw / 2, by + ch / 2), radius, colour)
        cx, cy = cx + cw * 0.06, cy + ch * 0.12
        cw, ch = cw * 0.9, ch * 0.9
    box = (cx - cw / 2, cy - ch / 2, cx + cw / 2, cy + ch / 2)
    shadow = (box[0] + ch * 0.03, box[1] + ch * 0.05, box[2] + ch * 0.03, box[3] + ch * 0.05)
    canvas.rounded_rect(shadow, radius, shade(desk, 0.25), 0.5)
    canvas.rounded_rect(box, radius, (255, 255, 255))
    band = ch * 0.14
    canvas.rect((box[0] + radius, box[3] - band, box[2] - radius, box[3]), colour)
    canvas.rounded_rect((box[0], box[3] - band, box[2], box[3]), radius, colour)
    canvas.rect((box[0], box[3] - band, box[2], box[3] - band + radius), colour)
    text_left = box[0] + cw * 0.08
    if motif is not None:
        mark = ch * 0.3
        spot = Placement(0, box[0] + cw * 0.08 + mark / 2, box[1] + ch * 0.35, mark, colour, False)
        draw_placement(canvas, spot, motif, flat_of(style), (255, 255, 255))
        text_left += mark * 1.25
    ink = shade(colour, 0.55) if luminance(colour) > 0.15 else colour
    set_lines(
        canvas,
        lines[:2],
        (text_left, box[1] + ch * 0.2, box[2] - cw * 0.08, box[1] + ch * 0.52),
        [ink],
        "left",
    )
    # Contact lines as grey bars: room for details the prompt did not give.
    for k, frac in enumerate((0.5, 0.38)):
        y = box[1] + ch * (0.6 + k * 0.09)
        canvas.rounded_rect(
            (box[0] + cw * 0.08, y, box[0] + cw * (0.08 + frac), y + ch * 0.04),
            ch * 0.02,
            (214, 218, 226),
        )
