"""Settings and backgrounds: skies, ground, water, cities, space, rooms, studio backdrops, patterns.

Each setting paints the full canvas from the back to the front (sky, far layer, near layer, ground)
with the layering of flat illustration: far layers paler and bluer, near ones stronger. Geometry is
proportional to the canvas, and the horizon moves with the aspect ratio (low on wide banners, high
on tall posters), so every size is composed natively. Randomness comes only from the seeded
generator passed in, which makes n pictures differ and one seed repeat exactly. Each function
returns where things may stand (`Stage`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .colours import RGB, hex_to_rgb, luminance, mix, shade
from .render import Canvas
from .styles import Style


@dataclass
class Stage:
    """What the scene leaves for the subjects: the ground line and the open sky band."""

    ground: float  # y where grounded things stand
    sky_top: float  # band where flying things go
    sky_bottom: float
    floor_colour: RGB = (200, 200, 200)
    surface: tuple[float, float, float] | None = None  # table top: (y, x0, x1)
    clear: tuple[float, float, float, float] | None = None  # area kept empty for a title
    window: tuple[float, float] | None = None  # a room's window, left and right edges
    notes: list[str] = field(default_factory=list)


@dataclass
class Context:
    canvas: Canvas
    rng: np.random.Generator
    style: Style
    palette: list[RGB]
    time: str = "day"
    background: RGB | None = None
    camera: float = 0.0  # seeded camera height: moves every horizon by this fraction of the height
    # Colours the prompt gives parts of the place ("a blue sky", "a grey sea"), by setting.
    setting_colours: dict[str, RGB] = field(default_factory=dict)

    def c(self, colour: str | RGB) -> RGB:
        rgb = hex_to_rgb(colour) if isinstance(colour, str) else colour
        return self.style.background_tint(rgb)

    @property
    def w(self) -> int:
        return self.canvas.width

    @property
    def h(self) -> int:
        return self.canvas.height

    def horizon(self, base: float = 0.64) -> float:
        """Lower on wide pictures (more sky for a banner), higher on tall ones; the seeded camera
        raises or lowers it a little, so n drafts of one scene are not framed alike."""
        aspect = self.w / self.h
        return self.h * (min(0.78, max(0.55, base + 0.07 * (aspect - 1.0))) + self.camera)


# -- shared pieces -----------------------------------------------------------------------------

SKIES = {
    "day": ("#7cc3f0", "#cfeefb"),
    "sunrise": ("#7aa7e0", "#ffd3a8"),
    "sunset": ("#3b2a6b", "#ff9a6b"),
    "night": ("#0b1230", "#2c3e70"),
}


def sky(
    ctx: Context,
    bottom: float,
    time: str | None = None,
    extra: RGB | None = None,
    tint: RGB | None = None,
) -> None:
    top_hex, low_hex = SKIES[time or ctx.time]
    top, low = ctx.c(top_hex), ctx.c(low_hex)
    tint = tint or ctx.setting_colours.get("sky")
    if tint is not None:
        # The sky's stated colour at the zenith, paling towards the horizon as a real sky does.
        top = ctx.c(mix(top, tint, 0.7))
        low = ctx.c(mix(low, tint, 0.3))
    if ctx.style.dark and (time or ctx.time) == "day":
        top, low = ctx.c("#120a3a"), ctx.c("#5a1a6a")
    stops = [(0.0, top), (1.0, low)]
    if (time or ctx.time) == "sunset":
        stops = [(0.0, top), (0.55, ctx.c("#c8507a")), (1.0, low)]
    if extra is not None:
        stops = [(0.0, top), (1.0, mix(low, extra, 0.4))]
    # Painted to the bottom edge (the last colour held below `bottom`), so no gap can open up
    # under the far layers.
    end = min(1.0, bottom / ctx.h)
    stops = [(p * end, c) for p, c in stops] + [(1.0, stops[-1][1])]
    ctx.canvas.vertical_gradient(stops, 0, ctx.h)


def sun_or_moon(ctx: Context, horizon: float) -> None:
    w, h, rng = ctx.w, ctx.h, ctx.rng
    r = ctx.canvas.short * rng.uniform(0.07, 0.1)
    x = w * rng.choice([rng.uniform(0.12, 0.3), rng.uniform(0.7, 0.88)])
    if ctx.time == "night":
        y = h * rng.uniform(0.12, 0.22)
        ctx.canvas.glow(x, y, r * 3.2, ctx.c("#9fb4ff"), 0.25)
        ctx.canvas.circle(x, y, r, ctx.c("#f4f1de"), background=True)
        ctx.canvas.circle(
            x + r * 0.45, y - r * 0.2, r * 0.9, ctx.c(SKIES["night"][0]), background=True
        )
        stars(ctx, horizon)
        return
    if ctx.time in ("sunrise", "sunset"):
        y = horizon - r * 0.6
        x = w * rng.uniform(0.35, 0.65)
        colour = ctx.c("#ffd27a" if ctx.time == "sunrise" else "#ffb45e")
        ctx.canvas.glow(x, y, r * 4.5, colour, 0.45)
        ctx.canvas.circle(x, y, r * 1.35, colour, background=True)
        return
    y = h * rng.uniform(0.12, 0.22)
    ctx.canvas.glow(x, y, r * 3.0, ctx.c("#fff6c2"), 0.5)
    ctx.canvas.circle(x, y, r, ctx.c("#ffd84d"), background=True)


def stars(ctx: Context, bottom: float, count: int | None = None) -> None:
    rng = ctx.rng
    count = count or int(40 + ctx.w * ctx.h / 9000)
    scale = ctx.canvas.short / 1024
    xs = rng.uniform(0, ctx.w, count)
    ys = rng.uniform(0, bottom * 0.95, count) ** 1.0
    sizes = rng.choice([0.9, 1.3, 1.8, 2.6], count, p=[0.45, 0.3, 0.17, 0.08]) * scale + 0.5
    for x, y, r in zip(xs, ys, sizes, strict=True):
        ctx.canvas.circle(
            x, y, r, ctx.c("#fff8e1"), opacity=float(rng.uniform(0.5, 1.0)), background=True
        )


def cloud(
    ctx: Context, x: float, y: float, size: float, colour: RGB, opacity: float = 0.95
) -> None:
    """A flat-design cloud: a rounded bar with three bumps on top."""
    c = ctx.canvas
    c.rounded_rect(
        (x - size, y - size * 0.28, x + size, y + size * 0.28),
        size * 0.28,
        colour,
        opacity,
        background=True,
    )
    c.circle(x - size * 0.4, y - size * 0.25, size * 0.38, colour, opacity, background=True)
    c.circle(x + size * 0.15, y - size * 0.42, size * 0.5, colour, opacity, background=True)
    c.circle(x + size * 0.62, y - size * 0.12, size * 0.3, colour, opacity, background=True)


def clouds(ctx: Context, top: float, bottom: float, count: int) -> None:
    colour = ctx.c("#ffffff") if ctx.time == "day" else ctx.c("#ffd9c9")
    if ctx.time == "night":
        colour = ctx.c("#3a4a80")
    for _ in range(count):
        size = ctx.canvas.short * ctx.rng.uniform(0.07, 0.13)
        cloud(
            ctx,
            ctx.rng.uniform(0.05, 0.95) * ctx.w,
            ctx.rng.uniform(top, bottom),
            size,
            colour,
            opacity=float(ctx.rng.uniform(0.75, 0.95)),
        )


def wave_profile(ctx: Context, base: float, amplitude: float, waves: float) -> np.ndarray:
    """A smooth rolling profile: a sum of three sines with seeded phases."""
    x = np.arange(ctx.w, dtype=np.float32) / ctx.w
    rng = ctx.rng
    profile = np.zeros_like(x)
    for k, weight in ((1.0, 1.0), (2.3, 0.45), (4.7, 0.18)):
        profile += weight * np.sin(2 * math.pi * (waves * k * x + rng.uniform(0, 1)))
    return (base - amplitude * profile / 1.63).astype(np.float32)


def hills(ctx: Context, horizon: float, colours: list[RGB], amplitude: float = 0.06) -> None:
    h = ctx.h
    n = len(colours)
    for i, colour in enumerate(colours):
        base = horizon + (h - horizon) * (i / (n + 0.5)) * 0.55
        ctx.canvas.skyline(
            wave_profile(ctx, base, h * amplitude * (1 - 0.2 * i), 0.8 + 0.4 * i), colour
        )


def mountains(
    ctx: Context, horizon: float, colour: RGB, count: int, height: float, snow: bool = True
) -> None:
    """A range of flat-shaded peaks: lit left flank, shaded right flank, a zigzag snow cap."""
    w, rng = ctx.w, ctx.rng
    light, dark = colour, shade(colour, 0.22)
    snow_colour = ctx.c("#f4f7fb")
    span = w / max(1, count - 1) if count > 1 else w
    xs = [(-0.1 + i) * span + rng.uniform(-0.2, 0.2) * span for i in range(count)]
    for x in xs:
        peak_h = height * rng.uniform(0.6, 1.0)
        half = peak_h * rng.uniform(0.9, 1.3)
        top = horizon - peak_h
        ctx.canvas.polygon(
            [(x - half, horizon + 2), (x, top), (x + half, horizon + 2)], light, background=True
        )
        ctx.canvas.polygon(
            [(x, top), (x + half, horizon + 2), (x + half * 0.15, horizon + 2)],
            dark,
            background=True,
        )
        if snow and peak_h > height * 0.7:
            cap = 0.3
            y = top + peak_h * cap
            left, right = x - half * cap, x + half * cap
            zig = [
                (left, y),
                (left + (x - left) * 0.5, y - peak_h * 0.06),
                (x, y + peak_h * 0.05),
                (x + (right - x) * 0.5, y - peak_h * 0.05),
                (right, y),
            ]
            ctx.canvas.polygon([(x, top - 0.5), *zig[::-1]][::-1], snow_colour, background=True)


def pine(
    ctx: Context,
    x: float,
    base: float,
    height: float,
    colour: RGB,
    snow: bool = False,
    background: bool = True,
) -> None:
    c = ctx.canvas
    trunk = shade(colour, 0.45)
    c.rect(
        (x - height * 0.04, base - height * 0.2, x + height * 0.04, base + 1),
        trunk,
        background=background,
    )
    for k in range(3):
        tier_bottom = base - height * (0.15 + 0.25 * k)
        tier_top = tier_bottom - height * 0.45
        half = height * (0.3 - 0.06 * k)
        c.polygon(
            [(x - half, tier_bottom), (x, tier_top), (x + half, tier_bottom)],
            colour,
            background=background,
        )
        c.polygon(
            [(x, tier_top), (x + half, tier_bottom), (x, tier_bottom)],
            shade(colour, 0.18),
            background=background,
        )
        if snow:
            c.polygon(
                [
                    (x - half * 0.35, tier_top + height * 0.16),
                    (x, tier_top),
                    (x + half * 0.35, tier_top + height * 0.16),
                ],
                ctx.c("#f4f7fb"),
                background=background,
            )


def round_tree(ctx: Context, x: float, base: float, height: float, colour: RGB) -> None:
    c = ctx.canvas
    c.rect(
        (x - height * 0.035, base - height * 0.45, x + height * 0.035, base + 1),
        shade(colour, 0.5),
        background=True,
    )
    r = height * 0.3
    c.circle(x, base - height * 0.62, r, colour, background=True)
    c.circle(
        x + r * 0.25,
        base - height * 0.62 - r * 0.1,
        r * 0.7,
        shade(colour, -0.15),
        opacity=0.5,
        background=True,
    )


# -- settings ----------------------------------------------------------------------------------


def open_sky(ctx: Context) -> Stage:
    horizon = ctx.horizon()
    sky(ctx, horizon + ctx.h * 0.1)
    sun_or_moon(ctx, horizon)
    if ctx.time != "night":
        clouds(ctx, ctx.h * 0.1, horizon * 0.6, int(ctx.rng.integers(2, 5)))
    greens = ["#a7d676", "#7fbf5a", "#5ea648"]
    if ctx.time == "sunset":
        greens = ["#8a4f7d", "#5d3a6e", "#3b2a55"]
    elif ctx.time == "night":
        greens = ["#1f3556", "#18294a", "#101d38"]
    ground_colour = ctx.setting_colours.get("ground")
    shades = [ctx.c(g) for g in greens]
    if ground_colour is not None:  # "a green lawn", "a golden meadow"
        shades = [mix(s, ctx.c(ground_colour), 0.5) for s in shades]
    hills(ctx, horizon, shades)
    ground = horizon + (ctx.h - horizon) * 0.72
    return Stage(ground, ctx.h * 0.08, horizon * 0.8, ctx.c(greens[-1]))


def mountain_scene(ctx: Context, snow_ground: bool = False) -> Stage:
    horizon = ctx.horizon(0.66)
    sky(ctx, horizon + 4)
    sun_or_moon(ctx, horizon)
    if ctx.time == "day":
        clouds(ctx, ctx.h * 0.08, horizon * 0.45, int(ctx.rng.integers(1, 4)))
    far = {"day": "#8fa9cc", "sunrise": "#a38bb8", "sunset": "#6b4a86", "night": "#2a3a66"}
    near = {"day": "#5f7fa8", "sunrise": "#7a6aa0", "sunset": "#4a3370", "night": "#1d2a50"}
    mountains(ctx, horizon, ctx.c(far[ctx.time]), int(ctx.rng.integers(3, 5)), ctx.h * 0.42)
    mountains(
        ctx,
        horizon + ctx.h * 0.03,
        ctx.c(near[ctx.time]),
        int(ctx.rng.integers(2, 4)),
        ctx.h * 0.3,
        snow=ctx.time != "night",
    )
    ground_colours = (
        ["#dfe9f3", "#c9d8ea", "#b3c6de"] if snow_ground else ["#9ccc65", "#7cb342", "#558b2f"]
    )
    if ctx.time in ("sunset", "night") and not snow_ground:
        ground_colours = ["#4a3a6a", "#35295a", "#241c44"]
    stated = ctx.setting_colours.get("ground")
    ground_shades = [ctx.c(g) for g in ground_colours]
    if stated is not None:  # "a golden meadow", "green hills"
        ground_shades = [mix(s, ctx.c(stated), 0.5) for s in ground_shades]
    hills(ctx, horizon + ctx.h * 0.05, ground_shades, amplitude=0.03)
    if snow_ground:
        for _ in range(int(ctx.rng.integers(3, 7))):
            x = ctx.rng.uniform(0, ctx.w)
            pine(
                ctx,
                x,
                horizon + ctx.h * 0.08,
                ctx.h * ctx.rng.uniform(0.12, 0.2),
                ctx.c("#2f6b5a"),
                snow=True,
            )
        for _ in range(int(60 * ctx.w * ctx.h / 1024**2)):
            ctx.canvas.circle(
                ctx.rng.uniform(0, ctx.w),
                ctx.rng.uniform(0, ctx.h),
                ctx.canvas.short * ctx.rng.uniform(0.003, 0.007),
                (255, 255, 255),
                opacity=0.85,
                background=True,
            )
    ground = horizon + (ctx.h - horizon) * 0.7
    return Stage(ground, ctx.h * 0.06, horizon * 0.55, ctx.c(ground_colours[-1]))


def forest_scene(ctx: Context) -> Stage:
    horizon = ctx.horizon(0.62)
    sky(ctx, horizon + 4)
    sun_or_moon(ctx, horizon)
    if ctx.time == "day":
        clouds(ctx, ctx.h * 0.08, horizon * 0.4, int(ctx.rng.integers(1, 3)))
    tones = {
        "day": ["#8cbf9a", "#4f9a6a", "#2f7a55"],
        "sunrise": ["#b59aa8", "#6f7f76", "#3f6456"],
        "sunset": ["#7a4a78", "#4d3566", "#2c2450"],
        "night": ["#22385a", "#182a48", "#0f1d36"],
    }
    layers = [ctx.c(t) for t in tones[ctx.time]]
    hills(ctx, horizon - ctx.h * 0.04, [layers[0]], amplitude=0.04)
    for depth, colour in enumerate(layers):
        base = horizon + ctx.h * 0.04 * depth
        count = int(ctx.w / ctx.canvas.short * (9 - depth * 2))
        height = ctx.h * (0.16 + 0.07 * depth)
        for i in range(count):
            x = (i + ctx.rng.uniform(0.1, 0.9)) * ctx.w / count
            if depth == len(layers) - 1 and abs(x - ctx.w / 2) < ctx.w * 0.22:
                continue  # keep a clearing for the subjects
            pine(ctx, x, base, height * ctx.rng.uniform(0.8, 1.15), colour)
    ground_colour = ctx.c(
        {"day": "#7cb35a", "sunrise": "#7f9a6a", "sunset": "#3a2c55", "night": "#14233d"}[ctx.time]
    )
    ctx.canvas.skyline(wave_profile(ctx, horizon + ctx.h * 0.1, ctx.h * 0.015, 0.7), ground_colour)
    ground = horizon + (ctx.h - horizon) * 0.72
    return Stage(ground, ctx.h * 0.06, horizon * 0.5, ground_colour)


def ocean_scene(ctx: Context, beach: bool = False) -> Stage:
    horizon = ctx.horizon(0.52)
    sky(ctx, horizon + 2)
    sun_or_moon(ctx, horizon)
    if ctx.time == "day":
        clouds(ctx, ctx.h * 0.08, horizon * 0.6, int(ctx.rng.integers(2, 4)))
    sea = {
        "day": ("#3aa0d8", "#1b6fa8"),
        "sunrise": ("#6aa0c8", "#2f5f8a"),
        "sunset": ("#7a4f8f", "#3a2c6a"),
        "night": ("#1a2c5a", "#0b1533"),
    }[ctx.time]
    top, deep = ctx.c(sea[0]), ctx.c(sea[1])
    stated = ctx.setting_colours.get("ocean")
    if stated is not None:  # "a turquoise sea"
        top, deep = mix(top, ctx.c(stated), 0.7), mix(deep, ctx.c(stated), 0.6)
    ctx.canvas.vertical_gradient([(0.0, top), (1.0, deep)], int(horizon), ctx.h)
    if ctx.time in ("sunset", "sunrise", "night"):
        glint = ctx.c("#ffd9a0" if ctx.time != "night" else "#dfe6ff")
        for k in range(6):
            y = horizon + (ctx.h - horizon) * (0.05 + k * 0.08)
            half = ctx.w * (0.12 - k * 0.012)
            ctx.canvas.rounded_rect(
                (ctx.w / 2 - half, y, ctx.w / 2 + half, y + ctx.h * 0.008),
                ctx.h * 0.004,
                glint,
                0.6,
                background=True,
            )
    for k in range(3):
        base = horizon + (ctx.h - horizon) * (0.25 + 0.22 * k)
        ctx.canvas.skyline(
            wave_profile(ctx, base, ctx.h * 0.012, 3 + k),
            mix(top, deep, 0.3 + 0.3 * k),
            opacity=0.6,
        )
    ground = horizon + (ctx.h - horizon) * 0.45
    floor = deep
    if beach:
        sand = ctx.c("#f2d59b" if ctx.time == "day" else "#c99a7a")
        wet = ctx.c("#e0bd80" if ctx.time == "day" else "#a97a68")
        base = horizon + (ctx.h - horizon) * 0.55
        ctx.canvas.skyline(
            wave_profile(ctx, base, ctx.h * 0.02, 0.6), ctx.c("#ffffff"), opacity=0.7
        )
        ctx.canvas.skyline(wave_profile(ctx, base + ctx.h * 0.012, ctx.h * 0.02, 0.6), wet)
        ctx.canvas.skyline(wave_profile(ctx, base + ctx.h * 0.03, ctx.h * 0.02, 0.6), sand)
        side = ctx.rng.choice([0.1, 0.9])
        palm(ctx, ctx.w * side, ctx.h * 0.97, ctx.h * 0.55, side < 0.5)
        ground = base + (ctx.h - base) * 0.6
        floor = sand
    return Stage(ground, ctx.h * 0.08, horizon * 0.8, floor)


def palm(ctx: Context, x: float, base: float, height: float, lean_right: bool) -> None:
    lean = 1 if lean_right else -1
    trunk = ctx.c("#8a5a3c")
    top = (x + lean * height * 0.18, base - height)
    points = []
    for t in np.linspace(0, 1, 12):
        px = x + lean * height * 0.18 * t**2
        points.append((px - height * 0.025 * (1 - t * 0.4), base - height * t))
    for t in np.linspace(1, 0, 12):
        px = x + lean * height * 0.18 * t**2
        points.append((px + height * 0.025 * (1 - t * 0.4), base - height * t))
    ctx.canvas.polygon(points, trunk, background=True)
    leaf = ctx.c("#2f9a5a")
    for angle in (-160, -120, -60, -20, 20, 200, 160):
        a = math.radians(angle)
        length = height * 0.42
        tip = (top[0] + math.cos(a) * length, top[1] + math.sin(a) * length * 0.6 + length * 0.25)
        mid = (
            top[0] + math.cos(a) * length * 0.55,
            top[1] + math.sin(a) * length * 0.5 - length * 0.08,
        )
        normal = (-(mid[1] - top[1]), mid[0] - top[0])
        norm = math.hypot(*normal) or 1
        off = (normal[0] / norm * height * 0.05, normal[1] / norm * height * 0.05)
        ctx.canvas.polygon(
            [top, (mid[0] + off[0], mid[1] + off[1]), tip, (mid[0] - off[0], mid[1] - off[1])],
            leaf,
            background=True,
        )


def desert_scene(ctx: Context) -> Stage:
    horizon = ctx.horizon(0.6)
    time = ctx.time if ctx.time != "day" else "sunrise"
    top = {"sunrise": "#f7b267", "sunset": "#6a3d7a", "night": "#1b1840"}[time]
    low = {"sunrise": "#fde2b8", "sunset": "#ff9e6b", "night": "#44306a"}[time]
    end = horizon / ctx.h
    ctx.canvas.vertical_gradient([(0, ctx.c(top)), (end, ctx.c(low)), (1, ctx.c(low))], 0, ctx.h)
    r = ctx.canvas.short * 0.16
    if ctx.time == "night":
        stars(ctx, horizon)
    else:
        ctx.canvas.circle(
            ctx.w * ctx.rng.uniform(0.3, 0.7),
            horizon - r * 0.4,
            r,
            ctx.c("#fff1c1"),
            background=True,
        )
    dunes = (
        ["#f4c38a", "#e9a866", "#d98c4a"]
        if ctx.time != "night"
        else ["#5a4a7a", "#473a66", "#342a52"]
    )
    for i, colour in enumerate(dunes):
        base = horizon + (ctx.h - horizon) * (0.02 + 0.28 * i)
        ctx.canvas.skyline(wave_profile(ctx, base, ctx.h * 0.05, 0.6 + 0.3 * i), ctx.c(colour))
    ground = horizon + (ctx.h - horizon) * 0.72
    return Stage(ground, ctx.h * 0.06, horizon * 0.6, ctx.c(dunes[-1]))


def city_scene(ctx: Context) -> Stage:
    horizon = ctx.horizon(0.7)
    sky(ctx, horizon + 4)
    sun_or_moon(ctx, horizon * 0.8)
    rng, w, h = ctx.rng, ctx.w, ctx.h
    night = ctx.time == "night" or ctx.style.dark
    layers = {
        "day": ["#a9c3dc", "#7f9cbd", "#4f6d8f"],
        "sunrise": ["#c9a9c0", "#9a7fa0", "#5f4f7a"],
        "sunset": ["#8a5a8a", "#5e3f74", "#372a58"],
        "night": ["#2a3a66", "#1d2a50", "#121c3a"],
    }
    window_lit = ctx.c("#ffd77a")
    for depth, hex_colour in enumerate(layers[ctx.time]):
        colour = ctx.c(hex_colour)
        x = -rng.uniform(0, w * 0.05)
        unit = ctx.canvas.short * (0.06 + 0.02 * depth)
        while x < w:
            bw = unit * rng.uniform(0.8, 1.8)
            bh = h * rng.uniform(0.14, 0.34) * (1.25 - 0.18 * depth)
            top = horizon - bh + depth * h * 0.04
            ctx.canvas.rect(
                (x, top, x + bw - unit * 0.08, horizon + h * 0.1), colour, background=True
            )
            if depth == 2 and bw > unit:
                lit = window_lit if night else shade(colour, -0.35)
                step = unit * 0.28
                for wy in np.arange(top + step, horizon, step * 1.5):
                    for wx in np.arange(x + step * 0.6, x + bw - step * 1.2, step * 1.2):
                        if rng.random() < (0.45 if night else 0.8):
                            ctx.canvas.rect(
                                (wx, wy, wx + step * 0.55, wy + step * 0.7), lit, background=True
                            )
            x += bw
    street = ctx.c(
        {"day": "#56606e", "sunrise": "#5a5068", "sunset": "#2e2446", "night": "#0c1226"}[ctx.time]
    )
    ctx.canvas.rect((0, horizon + h * 0.08, w, h), street, background=True)
    ctx.canvas.rect(
        (0, horizon + h * 0.08, w, horizon + h * 0.09), shade(street, -0.25), background=True
    )
    ground = horizon + h * 0.08 + (h - horizon - h * 0.08) * 0.7
    return Stage(ground, h * 0.06, horizon * 0.5, street)


def space_scene(ctx: Context) -> Stage:
    w, h, rng = ctx.w, ctx.h, ctx.rng
    ctx.canvas.diagonal_gradient(
        [(0, ctx.c("#0b0a2a")), (0.6, ctx.c("#1e1250")), (1, ctx.c("#3a1a5e"))],
        angle=float(rng.uniform(0.3, 1.2)),
    )
    for colour in ("#6a3cc8", "#2a6ad8", "#c83c8a"):
        ctx.canvas.glow(
            rng.uniform(0, w),
            rng.uniform(0, h),
            ctx.canvas.short * rng.uniform(0.3, 0.5),
            ctx.c(colour),
            0.35,
        )
    ctx.time = "night"
    stars(ctx, h, int(80 + w * h / 6000))
    for k in range(int(rng.integers(1, 3))):
        r = ctx.canvas.short * rng.uniform(0.06, 0.14) * (1.6 if k == 0 else 0.7)
        x = w * (rng.uniform(0.08, 0.3) if k == 0 else rng.uniform(0.72, 0.92))
        y = h * (rng.uniform(0.65, 0.85) if k == 0 else rng.uniform(0.12, 0.3))
        colour = ctx.c(["#f4a261", "#e76f51", "#8ecae6", "#c77dff"][int(rng.integers(4))])
        ctx.canvas.circle(x, y, r, colour, background=True)
        ctx.canvas.circle(
            x + r * 0.35, y + r * 0.35, r * 0.85, shade(colour, 0.25), 0.5, background=True
        )
        if k == 0:
            ctx.canvas.ellipse(
                x, y, r * 1.9, r * 0.35, ctx.c("#ffe8c2"), 0.5, softness=0.25, background=True
            )
    return Stage(h * 0.72, h * 0.1, h * 0.6, ctx.c("#1e1250"))


def room_scene(ctx: Context) -> Stage:
    """An office or room: a wall with a window, a floor, and a desk top for things to stand on."""
    w, h, rng = ctx.w, ctx.h, ctx.rng
    wall = ctx.c(
        ctx.background or ["#f1e4d3", "#dfe8ef", "#e8e2f0", "#e3efe6"][int(rng.integers(4))]
    )
    floor_y = h * 0.78
    ctx.canvas.vertical_gradient([(0, wall), (1, shade(wall, 0.06))], 0, int(floor_y))
    ctx.canvas.vertical_gradient([(0, ctx.c("#b98d66")), (1, ctx.c("#9c7352"))], int(floor_y), h)
    # A window with its own little sky.
    ww, wh = ctx.canvas.short * 0.34, ctx.canvas.short * 0.3
    wx = w * (0.08 if rng.random() < 0.5 else 0.92) - (0 if rng.random() < 0.5 else 0)
    wx = min(max(wx - ww / 2, w * 0.04), w * 0.96 - ww)
    wy = h * 0.12
    frame = ctx.c("#ffffff")
    ctx.canvas.rounded_rect((wx - 8, wy - 8, wx + ww + 8, wy + wh + 8), 10, frame, background=True)
    sky_top, sky_low = SKIES[ctx.time]
    sub = Canvas(int(ww), int(wh))
    sub.vertical_gradient([(0, ctx.c(sky_top)), (1, ctx.c(sky_low))])
    ctx.canvas.put(sub.image, int(wx), int(wy))
    ctx.canvas.rect((wx + ww / 2 - 3, wy, wx + ww / 2 + 3, wy + wh), frame, background=True)
    ctx.canvas.rect((wx, wy + wh / 2 - 3, wx + ww, wy + wh / 2 + 3), frame, background=True)
    return Stage(h * 0.7, h * 0.08, h * 0.4, ctx.c("#9c7352"))


def studio(ctx: Context) -> Stage:
    """A product backdrop: the asked-for colour, a soft light from above, a gentle floor sweep."""
    if ctx.background is not None:
        base = ctx.c(ctx.background)
    else:
        # No colour asked for: a soft backdrop, a pale tint of one of the palette's colours.
        pick = ctx.palette[int(ctx.rng.integers(len(ctx.palette)))]
        base = ctx.c(mix(pick, (255, 255, 255), 0.72 if not ctx.style.dark else 0.0))
    floor = shade(base, 0.05) if luminance(base) > 0.2 else shade(base, -0.08)
    ctx.canvas.vertical_gradient(
        [(0, shade(base, -0.04) if luminance(base) < 0.96 else base), (0.7, base), (1.0, floor)]
    )
    if luminance(base) < 0.97 and ctx.background is None:
        ctx.canvas.glow(ctx.w / 2, ctx.h * 0.42, ctx.canvas.short * 0.55, shade(base, -0.3), 0.35)
    return Stage(ctx.h * 0.76, ctx.h * 0.08, ctx.h * 0.4, floor)


SETTINGS: dict[str, Callable[[Context], Stage]] = {
    "sky": open_sky,
    "mountains": mountain_scene,
    "snow": lambda ctx: mountain_scene(ctx, snow_ground=True),
    "forest": forest_scene,
    "ocean": ocean_scene,
    "beach": lambda ctx: ocean_scene(ctx, beach=True),
    "desert": desert_scene,
    "city": city_scene,
    "space": space_scene,
    "office": room_scene,
    "studio": studio,
}


def draw_setting(ctx: Context, setting: str | None) -> Stage:
    return SETTINGS.get(setting or "sky", open_sky)(ctx)


def interior(ctx: Context, room: dict, tint: RGB | None = None) -> Stage:
    """A room from its template (lexicon.json "rooms"): a wall, a floor, a window if it has one,
    and a counter or table top across the front when it has one. Furniture is drawn afterwards
    by the illustrator, standing on the floor line this returns."""
    w, h, rng = ctx.w, ctx.h, ctx.rng
    wall = ctx.c(ctx.background or room["wall"])
    if tint is not None and ctx.background is None:
        wall = mix(ctx.c(tint), (255, 255, 255), 0.86)  # the brand colour, as a pale wall
    floor_y = h * (0.74 + ctx.camera)
    ctx.canvas.vertical_gradient([(0, wall), (1, shade(wall, 0.05))], 0, int(floor_y))
    floor = ctx.c(room["floor"])
    ctx.canvas.vertical_gradient([(0, shade(floor, -0.05)), (1, floor)], int(floor_y), h)
    ctx.canvas.rect((0, floor_y - h * 0.012, w, floor_y), shade(wall, 0.18), background=True)
    if room.get("tiles"):
        step = ctx.canvas.short * 0.06
        for y in np.arange(h * 0.36, floor_y - step, step):
            ctx.canvas.rect((0, y, w, y + 2), shade(wall, 0.06), background=True)
    if room.get("window"):
        ww, wh = ctx.canvas.short * 0.3, ctx.canvas.short * 0.24
        hung = any(len(piece) > 3 for piece in room["furniture"])  # keep clear of a board
        spot = (0.18, 0.82) if hung else (0.3, 0.7)
        wx = w * spot[0 if rng.random() < 0.5 else 1] - ww / 2
        wy = h * 0.1
        frame = ctx.c("#ffffff")
        ctx.canvas.rounded_rect(
            (wx - 8, wy - 8, wx + ww + 8, wy + wh + 8), 10, frame, background=True
        )
        sky_top, sky_low = SKIES[ctx.time]
        sub = Canvas(int(ww), int(wh))
        sub.vertical_gradient([(0, ctx.c(sky_top)), (1, ctx.c(sky_low))])
        ctx.canvas.put(sub.image, int(wx), int(wy))
        ctx.canvas.rect((wx + ww / 2 - 3, wy, wx + ww / 2 + 3, wy + wh), frame, background=True)
    stage = Stage(floor_y + h * 0.02, h * 0.08, h * 0.36, floor)
    if room.get("window"):
        stage.window = (wx - 8, wx + ww + 8)
    return stage


def counter(
    ctx: Context, room: dict, top: float, span: tuple[float, float] | None = None
) -> tuple[float, float, float]:
    """A counter or table across the front of a room; returns its top (y, x0, x1)."""
    w, h = ctx.w, ctx.h
    colour = ctx.c(room["counter"])
    x0, x1 = span or (w * 0.06, w * 0.94)
    thick = ctx.canvas.short * 0.03
    ctx.canvas.rect((x0, top, x1, top + thick), shade(colour, 0.1))
    ctx.canvas.rect((x0 + thick, top + thick, x1 - thick, h), shade(colour, -0.08))
    if room.get("marble"):
        for k in range(7):
            y = top + thick * 0.2 + (k % 3) * thick * 0.25
            xa = x0 + (x1 - x0) * (k / 7.0)
            ctx.canvas.polygon(
                [
                    (xa, y),
                    (xa + w * 0.12, y + thick * 0.2),
                    (xa + w * 0.12, y + thick * 0.28),
                    (xa, y + thick * 0.08),
                ],
                shade(colour, -0.12),
            )
        # Veins across the front too, so the counter reads as stone, not as a painted box.
        front = h - top - thick
        span_w = x1 - x0 - 2 * thick
        run, drop, line = span_w * 0.22, front * 0.22, max(2.0, ctx.canvas.short * 0.012)
        for k in range(5):
            xa = x0 + thick + span_w * (0.04 + 0.15 * k)
            ya = top + thick + front * (0.1 + 0.17 * (k % 3))
            ctx.canvas.polygon(
                [(xa, ya), (xa + run, ya + drop), (xa + run, ya + drop + line), (xa, ya + line)],
                shade(colour, -0.3),
            )
    return top + thick * 0.1, x0, x1


def table(
    ctx: Context, room: dict, top: float, span: tuple[float, float] | None = None
) -> tuple[float, float, float]:
    """A table with legs (people show between them), where a counter would hide them."""
    w, h = ctx.w, ctx.h
    colour = ctx.c(room["counter"])
    x0, x1 = span or (w * 0.14, w * 0.86)
    thick = ctx.canvas.short * 0.032
    ctx.canvas.rounded_rect((x0, top, x1, top + thick), thick * 0.3, shade(colour, 0.05))
    ctx.canvas.rect(
        (x0 + thick * 0.4, top + thick, x1 - thick * 0.4, top + thick * 1.5), shade(colour, 0.25)
    )
    leg = thick * 0.8
    floor_y = h * (0.74 + ctx.camera) + h * 0.06
    for lx in (x0 + (x1 - x0) * 0.05, x1 - (x1 - x0) * 0.05 - leg):
        ctx.canvas.rect((lx, top + thick, lx + leg, floor_y), shade(colour, 0.3))
    return top + thick * 0.1, x0, x1
