"""Business graphics drawn as shapes, not icons: bar charts rising or falling, pie charts with the
asked-for number of slices in the asked-for colours, line charts, and a world map with network
lines. Each sits on a white card over a soft backdrop, like a slide placeholder."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from .colours import RGB, luminance, mix, shade
from .loading import filled_once
from .render import Canvas

SERIES = [(37, 99, 235), (16, 185, 129), (249, 115, 22), (236, 72, 153), (234, 179, 8)]


def series_colours(palette: list[RGB], n: int) -> list[RGB]:
    """The named colours first, then a steady business palette for the rest."""
    picked = [c for c in palette if 0.05 < luminance(c) < 0.92] or list(SERIES)
    out = list(picked)
    for colour in SERIES:
        if len(out) >= n:
            break
        if all(abs(sum(colour) - sum(c)) > 30 or colour != c for c in out):
            out.append(colour)
    while len(out) < n:
        out.append(shade(out[len(out) % len(picked)], 0.3 * (len(out) // len(picked))))
    return out[:n]


def card(
    canvas: Canvas, rng: np.random.Generator, variant: int = 0, colours: list[RGB] | None = None
) -> tuple[float, float, float, float]:
    """Where the chart goes; returns its plot area. Drafts take one of three layouts: a white card
    centred on a pale backdrop (0); a card to one side with a column of legend swatches beside it,
    like a dashboard tile (1); or the chart straight on a deep backdrop, no card (2)."""
    w, h = canvas.width, canvas.height
    tint = [(236, 242, 250), (242, 239, 234), (236, 246, 241)][int(rng.integers(3))]
    pad = canvas.short * 0.08
    if variant == 2:
        deep = (24, 34, 56)
        canvas.vertical_gradient([(0, deep), (1, shade(deep, 0.2))])
        m = canvas.short * 0.1
        return m, m, w - m, h - m
    canvas.vertical_gradient([(0, tint), (1, shade(tint, -0.03))])
    m = canvas.short * 0.07
    box = (m, m, w - m, h - m)
    if variant == 1:
        split = w * (0.68 if w >= h else 1.0)
        box = (m, m, split - m * 0.5, h - m) if w >= h else (m, m, w - m, h * 0.74)
    canvas.rounded_rect(
        (box[0] + m * 0.1, box[1] + m * 0.18, box[2] + m * 0.1, box[3] + m * 0.18),
        m * 0.4,
        shade(tint, -0.12),
        0.5,
    )
    canvas.rounded_rect(box, m * 0.4, (255, 255, 255))
    if variant == 1:
        legend(canvas, box, colours or list(SERIES[:3]), tint)
    return box[0] + pad, box[1] + pad, box[2] - pad, box[3] - pad


def legend(canvas: Canvas, box, colours: list[RGB], tint: RGB) -> None:
    """Legend swatches with grey text bars beside the card: a dashboard tile's key, no words."""
    w, h = canvas.width, canvas.height
    m = canvas.short * 0.07
    if w >= h:
        x0, x1, y = box[2] + m * 0.6, w - m, box[1] + m * 0.4
        step = min((box[3] - box[1]) / max(4, len(colours) + 1), canvas.short * 0.12)
        for colour in colours[:6]:
            canvas.rounded_rect((x0, y, x0 + step * 0.5, y + step * 0.5), step * 0.12, colour)
            canvas.rounded_rect(
                (x0 + step * 0.75, y + step * 0.15, x1, y + step * 0.35),
                step * 0.1,
                shade(tint, 0.1),
            )
            y += step
    else:
        y, x = h * 0.8, m
        step = (w - 2 * m) / max(3, len(colours))
        for colour in colours[:6]:
            canvas.rounded_rect((x, y, x + step * 0.25, y + step * 0.25), step * 0.06, colour)
            canvas.rounded_rect(
                (x + step * 0.35, y + step * 0.08, x + step * 0.85, y + step * 0.17),
                step * 0.05,
                shade(tint, 0.1),
            )
            x += step


def bar_chart(canvas: Canvas, area, colours: list[RGB], trend: int, rng) -> None:
    x0, y0, x1, y1 = area
    n = 5 + int(rng.integers(2))
    base = np.linspace(0.28, 0.95, n)
    heights = base if trend >= 0 else base[::-1]
    heights = np.clip(heights + rng.uniform(-0.05, 0.05, n), 0.15, 1.0)
    axis = (150, 156, 168)
    for k in range(4):
        gy = y1 - (y1 - y0) * (k + 1) / 4.2
        canvas.rect((x0, gy, x1, gy + max(1, canvas.short * 0.002)), (226, 230, 236))
    slot = (x1 - x0) / n
    for k, value in enumerate(heights):
        bx = x0 + slot * k + slot * 0.18
        top = y1 - (y1 - y0) * value * 0.9
        colour = colours[0] if len(colours) == 1 or k < n - 1 else colours[min(1, len(colours) - 1)]
        canvas.rounded_rect((bx, top, bx + slot * 0.64, y1), slot * 0.08, colour)
        canvas.rect((bx, (top + y1) / 2, bx + slot * 0.64, y1), colour)
    canvas.rect((x0, y1, x1, y1 + max(2, canvas.short * 0.004)), axis)
    trend_arrow(canvas, area, heights, colours[-1] if len(colours) > 1 else shade(colours[0], -0.3))


def trend_arrow(canvas: Canvas, area, heights, colour: RGB) -> None:
    """An arrow over the bars, in the direction they go."""
    x0, y0, x1, y1 = area
    n = len(heights)
    pts = [
        (x0 + (x1 - x0) * (k + 0.5) / n, y1 - (y1 - y0) * float(v) * 0.9 - canvas.short * 0.06)
        for k, v in enumerate(heights)
    ]
    thick = canvas.short * 0.014
    polyline(canvas, pts, colour, thick)
    (ax, ay), (bx, by) = pts[-2], pts[-1]
    angle = math.atan2(by - ay, bx - ax)
    head = thick * 3.2
    tip = (bx + math.cos(angle) * head * 0.6, by + math.sin(angle) * head * 0.6)
    left = (bx + math.cos(angle + 2.5) * head, by + math.sin(angle + 2.5) * head)
    right = (bx + math.cos(angle - 2.5) * head, by + math.sin(angle - 2.5) * head)
    canvas.polygon([tip, left, right], colour)


def polyline(canvas: Canvas, pts, colour: RGB, thick: float) -> None:
    for (ax, ay), (bx, by) in zip(pts, pts[1:], strict=False):
        dx, dy = bx - ax, by - ay
        length = math.hypot(dx, dy) or 1.0
        nx, ny = -dy / length * thick / 2, dx / length * thick / 2
        canvas.polygon(
            [(ax + nx, ay + ny), (bx + nx, by + ny), (bx - nx, by - ny), (ax - nx, ay - ny)], colour
        )
    for x, y in pts:
        canvas.circle(x, y, thick / 2, colour)


def line_chart(canvas: Canvas, area, colours: list[RGB], trend: int, rng) -> None:
    x0, y0, x1, y1 = area
    n = 7
    base = np.linspace(0.2, 0.92, n) if trend >= 0 else np.linspace(0.92, 0.2, n)
    values = np.clip(base + rng.uniform(-0.08, 0.08, n), 0.08, 1.0)
    for k in range(5):
        gy = y1 - (y1 - y0) * k / 4.5
        canvas.rect((x0, gy, x1, gy + max(1, canvas.short * 0.002)), (226, 230, 236))
    pts = [
        (x0 + (x1 - x0) * k / (n - 1), y1 - (y1 - y0) * float(v) * 0.92)
        for k, v in enumerate(values)
    ]
    colour = colours[0]
    area_pts = pts + [(x1, y1), (x0, y1)]
    canvas.polygon(area_pts, colour, opacity=0.18)
    polyline(canvas, pts, colour, canvas.short * 0.012)
    for x, y in pts:
        canvas.circle(x, y, canvas.short * 0.016, (255, 255, 255))
        canvas.ring(x, y, canvas.short * 0.016, canvas.short * 0.006, colour)


def pie_chart(
    canvas: Canvas, area, colours: list[RGB], slices: int, rng, donut: bool = False
) -> None:
    x0, y0, x1, y1 = area
    n = max(2, slices or len(colours) or 4)
    colours = series_colours(colours, n)
    weights = rng.uniform(0.6, 1.4, n)
    weights /= weights.sum()
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    r = min(x1 - x0, y1 - y0) * 0.48
    start = -90.0 + float(rng.uniform(-20, 20))
    gap = max(1.5, canvas.short * 0.004)
    for k in range(n):
        sweep = float(weights[k]) * 360.0
        steps = max(4, int(sweep / 3))
        pts = [(cx, cy)] + [
            (
                cx + r * math.cos(math.radians(start + sweep * i / steps)),
                cy + r * math.sin(math.radians(start + sweep * i / steps)),
            )
            for i in range(steps + 1)
        ]
        canvas.polygon(pts, colours[k])
        start += sweep
    if donut:
        canvas.circle(cx, cy, r * 0.55, canvas.image.getpixel((int(area[0]), int(area[1]))))
    # White gaps between slices read as a designed chart.
    start = start - 360.0
    for k in range(n):
        a = math.radians(start)
        polyline(
            canvas, [(cx, cy), (cx + r * math.cos(a), cy + r * math.sin(a))], (255, 255, 255), gap
        )
        start += float(weights[k]) * 360.0


@filled_once
def world_outline() -> dict:
    return json.loads((Path(__file__).parent / "data" / "world.json").read_text(encoding="utf-8"))


def network_map(canvas: Canvas, area, colours: list[RGB], rng) -> None:
    """A flat world map (coarse continents from data/world.json, equirectangular) with hub cities
    linked by arcs: the 'global network' slide. The links are drawn from the seed, so drafts
    differ."""
    x0, y0, x1, y1 = area
    north, south = 80.0, -56.0
    width = min(x1 - x0, (y1 - y0) * 360.0 / (north - south))
    height = width * (north - south) / 360.0
    left = (x0 + x1) / 2 - width / 2
    top = (y0 + y1) / 2 - height / 2

    def at(lon: float, lat: float) -> tuple[float, float]:
        return left + (lon + 180.0) / 360.0 * width, top + (north - lat) / (north - south) * height

    world = world_outline()
    land = mix(colours[0], (255, 255, 255), 0.62)
    for outline in world["land"].values():
        canvas.polygon([at(lon, lat) for lon, lat in outline], land)
    pts = [at(lon, lat) for lon, lat in world["hubs"].values()]
    line = colours[1] if len(colours) > 1 else shade(colours[0], 0.35)
    order = rng.permutation(len(pts))
    for a, b in zip(order, np.roll(order, 3), strict=False):
        (ax, ay), (bx, by) = pts[a], pts[b]
        mx, my = (ax + bx) / 2, min(ay, by) - abs(bx - ax) * 0.22
        curve = [
            (
                (1 - t) ** 2 * ax + 2 * (1 - t) * t * mx + t * t * bx,
                (1 - t) ** 2 * ay + 2 * (1 - t) * t * my + t * t * by,
            )
            for t in np.linspace(0, 1, 24)
        ]
        polyline(canvas, curve, line, canvas.short * 0.005)
    for x, y in pts:
        canvas.circle(x, y, canvas.short * 0.016, (255, 255, 255))
        canvas.circle(x, y, canvas.short * 0.011, colours[0])


def draw_chart(
    canvas: Canvas,
    kind: str,
    trend: int,
    slices: int,
    palette: list[RGB],
    rng: np.random.Generator,
    draft: int = 0,
) -> None:
    """The chart the plan asks for, in the layout of this draft (see `card`)."""
    variant = draft % 3
    colours = series_colours(palette, max(1, len(palette)))
    keyed = series_colours(palette, max(2, slices or len(palette) or 4))
    area = card(canvas, rng, variant, keyed if kind == "pie" else colours)
    if kind == "pie":
        pie_chart(canvas, area, palette, slices, rng, donut=draft % 2 == 1)
    elif kind == "line":
        line_chart(canvas, area, colours, trend, rng)
    elif kind == "map":
        network_map(canvas, area, series_colours(palette, 2), rng)
    else:
        bar_chart(
            canvas,
            area,
            colours if palette else series_colours([], 2)[:1] + [SERIES[2]],
            trend,
            rng,
        )
