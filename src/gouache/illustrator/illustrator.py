"""The Illustrator: prompt in, picture and a sentence of what was understood out.

A pipeline that reads top-down, one module per stage:

1. understand: prepare.py (words to set in type, emoji, other languages) and parse.py (things,
   counts, colours, relations, setting, room, chart) turn the prompt into a Plan;
2. plan: `Sketch` here picks the palette, the stage and which drawing of each thing this draft
   uses;
3. lay out: scenes.py paints the landscape or room and says where things may stand, compose.py
   places every thing;
4. render: figures.py (glyphs, people and their props), charts.py, lettering.py (real type),
   designs.py (brand pieces, icon sets, backgrounds) and styles.py (the finish);
5. describe.py writes the revised prompt. Encoding the PNG is the engine's job, not this package's.

While rendering, `draw(on_layer=...)` reports the picture's layers (background, scene, figures,
details) as they are finished, for streamed previews; see `Illustrator.draw`.

The word lists, aliases, languages, figure recipes and room templates are data (data/words.json,
data/lexicon.json, loaded by lexicon.py). The random generator is seeded from the seed and the
prompt, so a seed reproduces the bytes and n seeds give n drafts: different drawings of a thing,
mirrored or not, other placements and scales, other chart and logo layouts, other camera heights.
What the prompt states (colours, counts, positions, relations, background, style, text) is kept.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

from . import colours
from .charts import draw_chart
from .colours import RGB, contrast_ink, luminance, mix, shade
from .compose import Placement, layout
from .concepts import Concept, shared_index
from .describe import INDOOR_SURFACES, describe, is_icon_set, is_logo
from .designs import (
    abstract_background,
    brand_board,
    business_card,
    icon_set,
    pattern_background,
)
from .figures import draw_placement, glyph_for, mirrorable
from .lettering import set_lines
from .lexicon import HANGING, ICON_SETS, NATURAL_COLOURS, ROOM_WORDS, ROOMS, SURFACES
from .parse import STYLES, Plan, Subject, parse
from .render import Canvas
from .scenes import Context, Stage, counter, draw_setting, interior, studio, table
from .styles import Style, default_palette, finish, neon_palette, style_named

SIZE_LIMIT = 4096
MIN_DRAWN = 16
INK_GREY = (70, 74, 86)

# Called with a layer's name, a copy of the picture as it stands, and the fraction of the
# picture's stages done: see `Illustrator.draw`.
OnLayer = Callable[[str, Image.Image, float], None]


@dataclass
class Drawing:
    """A finished picture and the sentence saying what the illustrator understood."""

    image: Image.Image
    understood: str


@dataclass
class Backdrop:
    """The place a prompt names, drawn without the prompt's things, and where a thing stands in
    it: `stand` is (y, x0, x1), a counter, table or desk top when the place has one, else the
    ground line across the frame. `place` says whether the prompt named a place at all (a room,
    a landscape, a city); without one the backdrop is a plain product studio."""

    image: Image.Image
    understood: str
    stand: tuple[float, float, float]
    on_surface: bool
    place: bool


PLACELESS = (None, "studio", "gradient", "pattern")


def names_a_place(plan: Plan) -> bool:
    """Whether a prompt's plan names somewhere to be (a room or a landscape), not a backdrop."""
    return plan.room is not None or plan.setting not in PLACELESS


@lru_cache(maxsize=256)
def understand(prompt: str) -> Plan:
    """Parse once per distinct prompt: n pictures of one prompt share the reading."""
    return parse(prompt)


class Illustrator:
    """Draws flat vector illustrations offline. Cheap to construct; data loads on first use."""

    def __init__(self) -> None:
        self._ready = False

    def load(self) -> None:
        shared_index()
        self._ready = True

    def draw(
        self,
        prompt: str,
        *,
        width: int,
        height: int,
        seed: int,
        style: str | None = None,
        transparent: bool = False,
        on_layer: OnLayer | None = None,
    ) -> Drawing:
        """Draw the prompt at width x height. Same arguments, same pixels.

        `on_layer(name, picture, fraction)`, when given, is called as the picture really comes
        together, with a copy of it at that moment (what is drawn later never changes it), at
        the requested size and mode. The layers, in order, each only when more follows it:

        - "background": the bare room, landscape or studio, when furniture, a table or a
          product's props are drawn in it next (sent once the layout is done, a few
          milliseconds after its copy was taken, since only then is the count of layers known);
        - "scene": the background with everything standing in it, before the first figure;
        - "figures": the figures at the back (the first half drawn), or a lone figure when
          weather, type or a texture is still to come;
        - "details": everything but the last touch (the style's texture, or with no texture the
          weather and type over several figures).

        Logos, charts, cards and icon sets have fewer. The fractions are spread evenly over
        the layers this picture has and its finish: the i-th of m layers reports (i + 1) / (m + 1),
        so a caller can pick layers evenly. The callback runs on the drawing thread; it changes
        nothing in the drawing, so the picture is the same with it or without it.
        """
        if not (0 < width <= SIZE_LIMIT and 0 < height <= SIZE_LIMIT):
            raise ValueError(f"size {width}x{height} is outside 1..{SIZE_LIMIT} pixels per side")
        if not self._ready:
            self.load()
        plan = understand(prompt or "")
        style_name = style if style in STYLES else plan.style
        # Two streams: the scene's depends on the seed and the kind of scene only, so adding a
        # thing to a prompt keeps its landscape; the layout's also depends on the whole prompt.
        scene_key = f"{plan.setting}|{plan.time}|{plan.purpose}|{plan.background}|{plan.palette}"
        scene_rng = np.random.default_rng([seed & 0xFFFFFFFF, zlib.crc32(scene_key.encode())])
        rng = np.random.default_rng([seed & 0xFFFFFFFF, zlib.crc32(prompt.encode("utf-8"))])
        # The draft number steps by one from seed to seed, so the n images of a request (seeds
        # seed..seed+n-1) walk through different compositions instead of repeating one by chance.
        draft = (seed + zlib.crc32(prompt.encode("utf-8"))) & 0xFFFFFFFF
        # Scenes need a few pixels to lay out in: tinier pictures are drawn at 16 and reduced.
        tiny = min(width, height) < MIN_DRAWN
        drawn_w, drawn_h = (
            (max(width, MIN_DRAWN), max(height, MIN_DRAWN)) if tiny else (width, height)
        )
        sketch = Sketch(plan, style_name, drawn_w, drawn_h, rng, transparent, scene_rng, draft)
        if on_layer is not None:
            sketch.on_layer = on_layer if not tiny else _resized(on_layer, width, height)
        sketch.stage_and_layout()
        image = sketch.rasterise()
        if tiny:
            image = image.resize((width, height), Image.Resampling.BOX)
        understood = describe(plan, style_name, sketch.concepts, sketch.purpose, sketch.transparent)
        return Drawing(image=image, understood=understood)

    def understand(self, prompt: str) -> Plan:
        """How the illustrator reads a prompt (its things, place and colours), for callers that
        choose what to draw from it, as the engine's edits do."""
        if not self._ready:
            self.load()
        return understand(prompt or "")

    def names_a_place(self, prompt: str) -> bool:
        """Whether the prompt names somewhere to be (a room, a landscape, a city)."""
        return names_a_place(self.understand(prompt))

    def backdrop(
        self,
        prompt: str,
        *,
        width: int,
        height: int,
        seed: int,
        style: str | None = None,
    ) -> Backdrop:
        """The place the prompt names, without its things, for an edit that stands the user's
        own picture in it ("on a marble countertop in a kitchen", "at the beach"). A surface the
        prompt names ("on a wooden desk") is drawn as the surface to stand on, not as a thing."""
        if not (0 < width <= SIZE_LIMIT and 0 < height <= SIZE_LIMIT):
            raise ValueError(f"size {width}x{height} is outside 1..{SIZE_LIMIT} pixels per side")
        if not self._ready:
            self.load()
        plan = understand(prompt or "")
        place = names_a_place(plan)
        surface, room = plan.surface, plan.room
        for subject in plan.subjects:
            words = subject.phrase.split()
            if surface is None and (words[-1] in SURFACES or subject.concept.name in SURFACES):
                surface = "counter" if words[-1] == "countertop" else words[-1]
                # "on a kitchen table": the table of a kitchen, not of the default office
                named = [ROOM_WORDS[w] for w in words[:-1] if w in ROOM_WORDS]
                room = named[0] if named else room
        purpose = "scene" if place else "product"
        bare = replace(plan, subjects=[], surface=surface, room=room, purpose=purpose, text=[])
        style_name = style if style in STYLES else plan.style
        scene_key = f"{plan.setting}|{plan.time}|{purpose}|{plan.background}|{plan.palette}"
        scene_rng = np.random.default_rng([seed & 0xFFFFFFFF, zlib.crc32(scene_key.encode())])
        rng = np.random.default_rng([seed & 0xFFFFFFFF, zlib.crc32(prompt.encode("utf-8"))])
        draft = (seed + zlib.crc32(prompt.encode("utf-8"))) & 0xFFFFFFFF
        w, h = max(width, MIN_DRAWN), max(height, MIN_DRAWN)
        sketch = Sketch(bare, style_name, w, h, rng, False, scene_rng, draft)
        sketch.stage_and_layout()
        stage = sketch.stage
        assert stage is not None
        if surface and stage.surface is None and room is None:
            stage.surface = sketch.draw_surface()
        image = sketch.rasterise()
        if (w, h) != (width, height):
            image = image.resize((width, height), Image.Resampling.BOX)
        stand = stage.surface or (stage.ground, 0.0, float(w))
        scale_x, scale_y = width / w, height / h
        understood = describe(bare, style_name, [], purpose, False)
        return Backdrop(
            image=image,
            understood=understood,
            stand=(stand[0] * scale_y, stand[1] * scale_x, stand[2] * scale_x),
            on_surface=stage.surface is not None,
            place=place,
        )


def _resized(on_layer: OnLayer, width: int, height: int) -> OnLayer:
    """Layers of a picture drawn larger than asked (tiny sizes), reduced as the picture is."""

    def call(name: str, picture: Image.Image, fraction: float) -> None:
        on_layer(name, picture.resize((width, height), Image.Resampling.BOX), fraction)

    return call


class Sketch:
    """One picture in progress: the state shared by the layout and rasterising steps."""

    def __init__(
        self,
        plan: Plan,
        style_name: str,
        width: int,
        height: int,
        rng: np.random.Generator,
        transparent: bool,
        scene_rng: np.random.Generator | None = None,
        draft: int | None = None,
    ) -> None:
        self.plan, self.rng, self.transparent = plan, rng, transparent
        self.draft = int(rng.integers(1 << 30)) if draft is None else draft
        self.scene_rng = scene_rng or rng
        self.width, self.height = width, height
        mono = None
        if style_name == "monochrome":
            given = [c for s in plan.subjects for c in s.colours] + plan.palette
            mono = given[0] if given else None
        self.style: Style = style_named(style_name, mono)
        self.palette = self.choose_palette()
        background = plan.background if plan.background is not None else (255, 255, 255)
        self.canvas = Canvas(width, height, background, track_alpha=transparent)
        camera = float(self.scene_rng.uniform(-0.04, 0.04))
        self.ctx = Context(
            self.canvas,
            self.scene_rng,
            self.style,
            self.palette,
            plan.time,
            plan.background,
            camera,
            plan.setting_colours,
        )
        # Which of the equally good drawings of each thing this picture uses.
        self.concepts: list[Concept] = [
            choices[(self.draft + g) % len(choices)]
            for g, choices in enumerate(drawings_of(s) for s in plan.subjects)
        ]
        self.stage: Stage | None = None
        self.placements: list[Placement] = []
        self.purpose = plan.purpose
        self.clear: tuple[float, float, float, float] | None = None
        self.counter_later: tuple[dict, float, tuple[float, float]] | None = None
        self.field: RGB | None = None  # the colour of an abstract background, once drawn
        # Progress reporting, off unless a caller asks (`Illustrator.draw(on_layer=...)`).
        self.on_layer: OnLayer | None = None
        self.layers_due: list[str] = []
        self.early: list[tuple[str, Image.Image]] = []

    def choose_palette(self) -> list[RGB]:
        plan = self.plan
        if self.style.name == "neon" and not plan.palette:
            return neon_palette(self.scene_rng)
        palette = list(plan.palette)
        if not palette and plan.background is not None and plan.purpose != "product":
            # "A blue background": decorate in tones of that blue, not in foreign hues.
            base = plan.background
            return [
                base,
                shade(base, -0.3),
                shade(base, 0.25),
                shade(base, -0.55),
                shade(base, 0.45),
            ]
        if len(palette) < 3:
            designer = default_palette(self.scene_rng)
            if palette:
                # Extend the asked-for colours with tints of themselves rather than foreign hues.
                base = palette[0]
                palette += [shade(base, -0.55), shade(base, 0.35), mix(base, designer[0], 0.5)]
            else:
                palette = designer
        return palette

    def subject_colours(self) -> list[list[RGB]]:
        out = []
        dress = self.palette_dresses_things()
        # Where a stated palette dresses things, only its own colours do, not the tints of them.
        source = list(self.plan.palette) if dress else self.palette
        accents = [c for c in source if 0.12 < luminance(c) < 0.85] or source
        floor = self.stage.floor_colour if self.stage is not None else (255, 255, 255)
        if self.plan.background is not None:
            floor = self.plan.background
        elif self.field is not None:
            floor = self.field  # things on a slide's colour field stand out from that field
        # Prefer the palette colours that stand out from the ground they will stand on.
        dark_scene = self.plan.time == "night" or self.style.dark or self.plan.setting == "space"

        def standout(c: RGB) -> float:
            penalty = 120.0 if dark_scene and luminance(c) < 0.3 else 0.0
            return colours.distance(c, floor) - penalty

        accents = sorted(accents, key=lambda c: -standout(c))[:3]
        # A colour that all but vanishes on its ground is no colour for a thing standing there.
        accents = [c for c in accents if colours.distance(c, floor) > 48] or accents
        offset = int(self.rng.integers(len(accents)))
        for g, subject in enumerate(self.plan.subjects):
            # On a product shot, an icon or a colour field a stated palette dresses every thing
            # without a colour of its own: a mug "in #3b2418 and #c8553d" takes the palette, not
            # coffee brown. In a room or a landscape, plants stay green. A named colour is kept.
            wanted = subject.colours or ([] if dress else natural_colour(self.concepts[g]))
            if not wanted:
                wanted = [accents[(g + offset) % len(accents)]]
            tint = self.style.tint
            if self.style.glow:
                wanted = [c if luminance(c) > 0.3 else mix(c, (255, 255, 255), 0.4) for c in wanted]
                tint = self.style.tint
            out.append([tint(c) for c in wanted])
        return out

    # -- layout ------------------------------------------------------------------------------
    def stage_and_layout(self) -> None:
        plan, ctx, w, h = self.plan, self.ctx, self.width, self.height
        region = None
        props = False
        if self.purpose == "chart":
            self.stage = Stage(h * 0.7, h * 0.1, h * 0.4)
            return
        if plan.room and self.purpose in ("scene", "slide") and not self.transparent:
            self.room_layout(ROOMS[plan.room])
            return
        if self.purpose == "product" or (plan.setting == "studio"):
            self.stage = studio(ctx) if not self.transparent else Stage(h * 0.78, h * 0.1, h * 0.4)
            props = not self.transparent and not plan.surface
        elif self.purpose == "slide":
            self.clear = (
                abstract_background(ctx, self.palette, keep_clear=True, stated=len(plan.palette))
                if not self.transparent
                else None
            )
            if not self.transparent:
                self.field = ctx.c(ctx.background or self.palette[0])
            if plan.setting not in (None, "gradient", "pattern", "studio") and not self.transparent:
                self.field = None
                self.stage = draw_setting(ctx, plan.setting)
                self.clear = (w * 0.06, h * 0.12, w * 0.55, h * 0.5)
            else:
                self.stage = Stage(h * 0.7, h * 0.15, h * 0.45)
            if w > h or (w == h and not plan.text):
                region = (w * 0.58, h * 0.12, w * 0.96, h * 0.92)
            else:
                region = (w * 0.08, h * 0.5, w * 0.92, h * 0.94)
        elif self.purpose == "brand" or self.purpose == "pattern":
            self.stage = Stage(h * 0.7, h * 0.1, h * 0.4)
            return
        elif self.purpose == "abstract":
            if not self.transparent:
                abstract_background(ctx, self.palette, keep_clear=False, stated=len(plan.palette))
            self.stage = Stage(h * 0.7, h * 0.1, h * 0.4)
            return
        else:
            if self.transparent:
                self.stage = Stage(h * 0.8, h * 0.1, h * 0.4)
            else:
                setting = plan.setting
                if setting is None and plan.surface in INDOOR_SURFACES:
                    setting = "office"  # a table stands indoors unless the prompt says otherwise
                self.stage = draw_setting(ctx, setting)
        if not self.transparent and plan.subjects and (plan.surface or props):
            self.early_layer("background")  # a table or a product's props are drawn next
        if plan.surface and plan.subjects:
            self.stage.surface = self.draw_surface()
        self.placements = layout(
            plan, self.stage, w, h, self.rng, self.subject_colours(), region, self.draft
        )
        self.mirror()
        if props and self.placements:
            self.product_props()

    def room_layout(self, room: dict) -> None:
        """A room from its template, the furniture at its sides, and the things and people of
        the prompt in it: objects on a counter, or people standing behind a table with the
        objects on it. On a slide the room fills the frame and the people and things keep to one
        side, leaving the other calm for a title."""
        plan, ctx, w, h = self.plan, self.ctx, self.width, self.height
        region = None
        if self.purpose == "slide":
            if w > h:
                self.clear = (w * 0.06, h * 0.12, w * 0.46, h * 0.6)
                region = (w * 0.5, h * 0.04, w * 0.97, h * 0.97)
            else:
                self.clear = (w * 0.08, h * 0.06, w * 0.92, h * 0.36)
                region = (w * 0.04, h * 0.4, w * 0.96, h * 0.97)
        tint = self.plan.palette[0] if self.plan.palette else None
        self.stage = interior(ctx, room, tint)
        self.early_layer("background")  # the bare room, before its furniture
        self.furnish(room, region)
        objects = [s for s in plan.subjects if not s.figure]
        people = len(objects) < len(plan.subjects)
        table_wanted = (
            plan.surface
            or objects
            or room.get("always_counter")
            or people
            and room.get("table_with_people")
        )
        x0, x1 = (region[0], region[2]) if region else (0.0, float(w))
        inset = 0.08 if region else 0.2  # leave the room's furniture at the sides in view
        span = (x0 + (x1 - x0) * inset, x1 - (x1 - x0) * inset)
        top = h * 0.6
        if room.get("counter") and table_wanted:
            if people:
                # People stand behind the table: it is drawn after them, over their legs.
                self.counter_later = (room, top, span)
                self.stage.surface = (top, *span)
            else:
                self.stage.surface = counter(ctx, room, top, span)
        self.placements = layout(
            plan, self.stage, w, h, self.rng, self.subject_colours(), region, self.draft
        )
        if self.counter_later is not None and self.placements:
            self.fit_table(region)
        self.mirror()

    def fit_table(self, region: tuple[float, float, float, float] | None) -> None:
        """The table spans the people behind it, and what stands on it stays on it."""
        w = self.width
        x0, x1 = (region[0], region[2]) if region else (0.0, float(w))
        people = [p for p in self.placements if self.plan.subjects[p.subject].figure]
        if not people:
            return
        pad = max(p.size for p in people) * 0.25
        left = max(x0, min(p.cx - p.size * 0.35 for p in people) - pad)
        right = min(x1, max(p.cx + p.size * 0.35 for p in people) + pad)
        room, top, _ = self.counter_later
        self.counter_later = (room, top, (left, right))
        for p in self.placements:
            if not self.plan.subjects[p.subject].figure:
                p.cx = min(max(p.cx, left + p.size * 0.45), right - p.size * 0.45)

    def furnish(self, room: dict, region: tuple[float, float, float, float] | None = None) -> None:
        """The furniture of a room template, standing on the floor at the room's edges."""
        index = shared_index()
        floor = self.stage.floor_colour
        wall = self.ctx.c(room["wall"])
        wall_ink = shade(wall, 0.4) if luminance(wall) > 0.4 else shade(wall, -0.45)
        for ref, fx, fsize, *where in room["furniture"]:
            concept = index.by_ref(ref)
            if concept is None:
                continue
            size = self.height * fsize
            x = self.width * fx
            if self.draft % 2:
                x = self.width - x  # mirrored rooms for alternate drafts
            x = min(max(x, size * 0.5), self.width - size * 0.5)  # never cut by the frame
            if region is not None and not region[0] - size * 0.5 < x < region[2] + size * 0.5:
                continue  # a slide's furniture stays with its people, off the title side
            colour = wall_ink if concept.font == "mdi" else shade(wall_ink, 0.2)
            on_wall = where == ["wall"]  # a board or a picture hangs; the rest stands
            window = self.stage.window
            if on_wall and window and window[0] - size * 0.6 < x < window[1] + size * 0.6:
                x = self.width - x  # never over the window: the other side of the wall
            cy = self.height * 0.3 if on_wall else self.stage.ground - size * 0.5
            spot = Placement(-1, x, cy, size, colour, not on_wall)
            draw_placement(self.canvas, spot, concept, self.style, floor)

    def mirror(self) -> None:
        for g, concept in enumerate(self.concepts):
            # Every other draft is mirrored (with the three placements that makes six distinct
            # drafts); never writing or digits. No relation the prompt can state depends on facing.
            flip = (self.draft + g) % 2 == 1 and mirrorable(concept)
            for placement in self.placements:
                if placement.subject == g:
                    placement.flip = flip

    def product_props(self) -> None:
        """Product shots vary by seed in the ways a designer would: a soft disc or an arch behind
        the product, a podium under it, or a tinted panel on its side of the frame, each drawn
        where the layout put the product (off-centre leaves the other side free for copy)."""
        c, w, h, rng = self.canvas, self.width, self.height, self.scene_rng
        colours_given = [col for s in self.plan.subjects for col in s.colours]
        accent = colours_given[0] if colours_given else self.palette[0]
        base = self.stage.floor_colour
        strength = 0.07 if luminance(base) > 0.8 else 0.25 if luminance(base) > 0.2 else 0.12
        tint = mix(base, self.style.tint(accent), strength)
        stated = self.backdrop_from_palette()
        if stated is not None:
            tint = stated  # a stated palette shows in full behind the product, not as a whisper
        # Neighbouring drafts, and drafts three apart (which share a placement), take different
        # props; the //3 term keeps them out of step with the mirroring (every other draft).
        variant = (2 * self.draft + self.draft // 3) % 4
        things = self.placements
        left = min(p.cx - p.size * 0.5 for p in things)
        right = max(p.cx + p.size * 0.5 for p in things)
        bottom = max(p.cy + p.size * 0.5 for p in things)
        size = max(p.size for p in things)
        cx, half = (left + right) / 2, max((right - left) / 2, size * 0.5)
        ground = min(bottom, self.stage.ground)
        centre = ground - size * 0.49

        def inside(x: float, r: float) -> float:
            """A backdrop shape's centre moved just enough to keep the shape in the frame."""
            room = c.short * 0.03 + r
            return min(max(x, room), w - room) if 2 * room < w else w / 2

        largest = c.short * 0.44  # a backdrop shape never fills the frame
        if variant == 0:
            radius = min(largest, max(half * 1.1, size * rng.uniform(0.6, 0.72)))
            c.circle(inside(cx, radius), centre, radius, tint, background=True)
        elif variant == 1:
            rx = half * 1.16
            top = max(h * 0.05, ground - size * 1.05 - rx * 0.3)
            ax = inside(cx, rx)
            c.rounded_rect((ax - rx, top, ax + rx, ground), rx, tint, background=True)
        elif variant == 2:
            podium = shade(base, 0.06) if luminance(base) > 0.3 else shade(base, -0.15)
            if stated is not None:
                podium = stated
            top = ground - size * 0.035
            rx, depth, lip = half * 1.1, size * 0.18, size * 0.064
            c.rect((cx - rx, top, cx + rx, top + depth), shade(podium, 0.05), background=True)
            c.ellipse(cx, top + depth, rx, lip, shade(podium, 0.05), background=True)
            c.ellipse(cx, top, rx, lip, podium, background=True)
        elif abs(cx - w / 2) > w * 0.05:
            # Off-centre: a panel of colour on the product's side, the other side free for copy.
            edge = cx + (cx - w / 2) * 10.0
            x0, x1 = sorted((min(max(edge, 0.0), float(w)), w / 2 + (cx - w / 2) * 0.1))
            c.rect((x0, 0.0, x1, float(h)), tint, background=True)
        else:
            radius = min(largest / 1.18, max(size * 0.68, half * 1.1))
            ax = inside(cx, radius * 1.18)
            c.circle(ax, centre, radius, tint, opacity=0.9, background=True)
            c.ring(ax, centre, radius * 1.18, max(2.0, size * 0.012), tint, background=True)

    def palette_dresses_things(self) -> bool:
        """Whether a stated palette replaces things' natural colours: in designs (a product
        shot, an icon, a slide's colour field), not in a drawn place (a room, a landscape)."""
        if not self.plan.palette:
            return False
        return self.field is not None or self.purpose in ("product", "brand", "pattern")

    def backdrop_from_palette(self) -> RGB | None:
        """The stated palette colour a product's backdrop shape takes: one the things do not
        wear, a different one from draft to draft, so a set of drafts shows the whole palette.
        None when the prompt states no palette (the backdrop is then a pale tint)."""
        worn = {p.colour for p in self.placements}
        unused = [self.style.tint(c) for c in self.plan.palette]
        unused = [c for c in unused if c not in worn] or unused
        if not unused:
            return None
        return unused[self.draft % len(unused)]

    def hold(self, placement: Placement, prop: Concept, at: str, floor: RGB) -> None:
        """What a figure holds (at its hand: a tablet, a briefcase) or anyone wears (on the
        head: a hat; on the face: sunglasses; at the neck: a bow tie). Where the head is comes
        from the drawing itself: the middle of its ink in the top band of the glyph, so a dog
        facing left and a person facing us both get their sunglasses on their eyes."""
        size = placement.size
        side = -1.0 if placement.flip else 1.0
        if at == "hand":
            spot = Placement(
                -1,
                placement.cx + side * size * 0.3,
                placement.cy + size * 0.06,
                size * 0.4,
                (0, 0, 0),
                False,
            )
        else:
            head_x, top, height = self.head_of(placement)
            scale = {"face": 0.3, "head": 0.36, "neck": 0.24}[at]
            y = {
                "face": top + height * 0.17,
                "head": top - size * 0.08,
                "neck": top + height * 0.36,
            }
            spot = Placement(-1, head_x, y[at], size * scale, (0, 0, 0), False)
        spot.colour = (
            natural_colour(prop)[0] if natural_colour(prop) else shade(placement.colour, 0.45)
        )
        draw_placement(self.canvas, spot, prop, self.style, floor)

    def head_of(self, placement: Placement) -> tuple[float, float, float]:
        """(x of the head, y of the top of the drawing, drawn height) on the canvas."""
        concept = self.concepts[placement.subject]
        mask, _ = glyph_for(concept, placement.size, self.style)
        ink = np.asarray(mask, dtype=np.float32)
        if placement.flip:
            ink = ink[:, ::-1]
        h, w = ink.shape
        rows = np.nonzero(ink.max(axis=1) > 64)[0]
        first = int(rows[0]) if len(rows) else 0
        band = ink[first : first + max(1, int(h * 0.3))].sum(axis=0)
        centre = float((band * np.arange(w)).sum() / band.sum()) if band.sum() else w / 2
        left = placement.cx - w / 2
        top = placement.cy - h / 2
        if placement.grounded:
            top = placement.cy + placement.size / 2 - h
        return left + centre, top + first, float(h - first)

    def is_icon_set(self) -> bool:
        return is_icon_set(self.plan)

    def icon_concepts(self) -> list[Concept]:
        """The asked-for things first, then a theme's icons ("business"), six to twelve in all."""
        index = shared_index()
        generic = {"star"}
        chosen = [c for c in self.concepts if c.name not in generic]
        words = set(self.plan.prompt.lower().split())
        theme = next((t for t in ICON_SETS if t in words), "business")
        for ref in ICON_SETS[theme]:
            found = index.by_ref(ref)
            if found is not None and found not in chosen:
                chosen.append(found)
        count = max((s.count for s in self.plan.subjects if s.count > 1), default=0)
        wanted = count if 4 <= count <= 12 else (8 if self.width > self.height * 1.3 else 9)
        return chosen[:wanted]

    def is_logo(self) -> bool:
        return is_logo(self.plan)

    def logo(self) -> None:
        """A logo draft: the mark in its colour on a disc, the name set in real type under it."""
        c, w, h, plan = self.canvas, self.width, self.height, self.plan
        given = [col for s in plan.subjects for col in s.colours]
        primary = self.style.tint(given[0] if given else (plan.palette or self.palette)[0])
        if luminance(primary) > 0.8:
            primary = shade(primary, -0.5)
        paper = mix(primary, (255, 255, 255), 0.9)
        if not self.transparent:
            c.vertical_gradient([(0, paper), (1, shade(paper, -0.03))])
        has_name = bool(plan.text)
        # Drafts: a filled badge over the name, a ring over the name, or a rounded tile beside
        # the name (a horizontal lockup).
        layout_kind = self.draft % 3
        side = layout_kind == 2 and has_name
        cx = w * 0.27 if side else w / 2
        cy = h / 2 if side or not has_name else h * 0.38
        radius = c.short * (0.17 if side else 0.22 if has_name else 0.3)
        motif = self.concepts[0] if self.concepts else None
        if layout_kind == 0:
            c.circle(cx, cy, radius, primary)
            ink = contrast_ink(primary) if not given else (255, 255, 255)
        elif layout_kind == 1:
            c.circle(cx, cy, radius, (255, 255, 255))
            c.ring(cx, cy, radius, c.short * 0.018, primary)
            ink = primary
        else:
            box = (cx - radius, cy - radius, cx + radius, cy + radius)
            c.rounded_rect(box, radius * 0.32, primary)
            ink = contrast_ink(primary) if not given else (255, 255, 255)
        if motif is not None:
            spot = Placement(0, cx, cy, radius * 1.15, ink, False)
            draw_placement(c, spot, motif, flat_of_style(), primary)
        if has_name:
            self.layer("figures")
            lines = plan.text[:2]
            if side:
                box = (w * 0.5, h * 0.36, w * 0.92, h * 0.64)
                set_lines(c, lines, box, [shade(primary, 0.35), shade(primary, 0.2)], "left")
            else:
                box = (w * 0.12, h * 0.66, w * 0.88, h * (0.84 if len(lines) == 1 else 0.92))
                set_lines(c, lines, box, [shade(primary, 0.35), shade(primary, 0.2)])

    def letter_panel(self) -> None:
        """The words of a banner, poster or card on a calm panel, large enough to read."""
        c, w, h = self.canvas, self.width, self.height
        lines = self.plan.text[:3]
        if w > h:
            box = (w * 0.06, h * 0.18, w * 0.54, h * 0.74)
        else:
            box = (w * 0.1, h * 0.1, w * 0.9, h * 0.42)
        pad = c.short * 0.04
        accent = self.style.tint(self.palette[0])
        ink = shade(accent, 0.62) if luminance(accent) > 0.12 else accent
        c.rounded_rect(
            (box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad), pad, (255, 255, 255), 0.94
        )
        set_lines(c, lines, box, [ink])

    def draw_surface(self) -> tuple[float, float, float]:
        """A table or desk top that things stand on, drawn across the lower part of the stage."""
        c, w, h = self.canvas, self.width, self.height
        wood = self.style.tint(
            self.plan.palette[0]
            if self.plan.palette
            else [(176, 124, 82), (196, 150, 108), (120, 134, 150)][int(self.rng.integers(3))]
        )
        top = h * (0.7 if h <= w else 0.66)
        x0, x1 = w * 0.08, w * 0.92
        thick = c.short * 0.035
        c.rounded_rect((x0, top, x1, top + thick), thick * 0.3, shade(wood, -0.12))
        c.rect(
            (x0 + thick * 0.3, top + thick * 0.75, x1 - thick * 0.3, top + thick), shade(wood, 0.15)
        )
        for lx in (x0 + w * 0.05, x1 - w * 0.05 - thick * 0.8):
            c.rect((lx, top + thick, lx + thick * 0.8, h), shade(wood, 0.25))
        if self.plan.surface == "desk":
            c.rect((x1 - w * 0.3, top + thick, x1 - w * 0.05, top + thick + h * 0.16), wood)
            c.rect(
                (x1 - w * 0.3, top + thick + h * 0.08, x1 - w * 0.05, top + thick + h * 0.085),
                shade(wood, 0.25),
            )
        return top + thick * 0.15, x0, x1

    # -- progress ---------------------------------------------------------------------------
    def textured(self) -> bool:
        """Whether a texture finish is still to come after everything is drawn."""
        return self.style.texture is not None and not self.transparent

    def plan_layers(self, *names: str) -> None:
        """The layers this picture reports (empty names left out), settled before the first is
        sent so that each can say how far along the picture is. Layers kept while the scene was
        laid out (`early_layer`) come first, and are sent now."""
        if self.on_layer is None:
            return
        early, self.early = self.early, []
        self.layers_due = [name for name, _ in early] + [name for name in names if name]
        for name, picture in early:
            self.send(name, picture)

    def early_layer(self, name: str) -> None:
        """Keep a copy of the picture now, to send once the layers are planned: the background,
        taken before the things that stand in it (a table, furniture, a podium) are drawn, and
        sent when the layout has said how many layers follow, a few milliseconds later."""
        if self.on_layer is not None:
            self.early.append((name, self.snapshot()))

    def layer(self, name: str) -> None:
        """Report a planned layer once, with a copy of the picture as it stands."""
        if self.on_layer is not None and name in self.layers_due:
            self.send(name, self.snapshot())

    def send(self, name: str, picture: Image.Image) -> None:
        position = self.layers_due.index(name)
        self.layers_due[position] = ""  # sent; a second call for the name does nothing
        fraction = (position + 1) / (len(self.layers_due) + 1)
        assert self.on_layer is not None
        self.on_layer(name, picture, fraction)

    def snapshot(self) -> Image.Image:
        """A copy of the picture as it stands, as the caller will get it (RGBA when transparent)."""
        canvas = self.canvas
        if self.transparent:
            return unblend(canvas.image, canvas.alpha, self.plan.background or (255, 255, 255))
        return canvas.image.copy()

    # -- rasterising ------------------------------------------------------------------------
    def rasterise(self) -> Image.Image:
        plan, canvas = self.plan, self.canvas
        if self.purpose in ("chart", "brand") or (plan.text and "card" in plan.prompt.lower()):
            # Designs drawn in one piece: only the texture, if any, comes after them (a logo
            # with a name also shows its mark before the name is set).
            card = bool(plan.text) and "card" in plan.prompt.lower()
            named_logo = self.purpose == "brand" and bool(plan.text) and not card
            named_logo = named_logo and not self.is_icon_set()
            self.plan_layers("figures" if named_logo else "", "details" if self.textured() else "")
        if self.purpose == "chart":
            draw_chart(
                canvas,
                plan.chart or "bar",
                plan.trend,
                plan.slices,
                plan.palette,
                self.rng,
                self.draft,
            )
            return self.finished()
        if plan.text and "card" in plan.prompt.lower():
            given = [c for s in plan.subjects for c in s.colours] or plan.palette or self.palette
            motif = next((c for c in self.concepts if "card" not in c.name), None)
            colour = self.style.tint(given[0])
            business_card(self.ctx, plan.text, colour, motif, self.style, self.draft)
            return self.finished()
        if self.purpose == "brand" and self.is_icon_set():
            given = plan.palette or [c for s in plan.subjects for c in s.colours] or self.palette
            colour = self.style.tint(given[0])
            icon_set(self.ctx, self.icon_concepts(), colour, self.style, self.draft)
            return self.finished()
        if self.purpose == "brand" and (plan.text or self.is_logo()):
            self.logo()
            return self.finished()
        if self.purpose == "brand":
            motifs = list(self.concepts)
            brand_board(self.ctx, self.palette, motifs, self.style, self.transparent)
        elif self.purpose == "pattern":
            motif = self.concepts[0] if self.concepts else None
            pattern_background(self.ctx, self.palette, plan.pattern, motif, self.style)
        floor = self.stage.floor_colour if self.stage else (200, 200, 200)
        if self.purpose == "product" and plan.background is not None:
            floor = plan.background
        drop = self.purpose in ("product", "slide")
        weather = plan.weather if self.purpose in ("scene", "product") and not plan.room else None
        if weather and not self.transparent:
            overcast(canvas, weather)

        def order(p: Placement) -> tuple[int, int, float]:
            behind = 0 if plan.subjects[p.subject].figure and self.counter_later else 1
            return (behind, p.layer, p.cy + p.size * 0.5)

        ordered = sorted(self.placements, key=order)
        count = len(ordered)
        # The "figures" layer follows the first half of the figures (a lone figure: itself).
        half = (count + 1) // 2 if count >= 2 else count
        later = bool(weather) or bool(plan.text and self.purpose == "slide")
        textured = self.textured()
        self.plan_layers(
            "scene" if not self.transparent and (count or later or textured) else "",
            "figures" if count and (half < count or later or textured) else "",
            "details" if (textured and (half < count or later)) or (later and half < count) else "",
        )
        self.layer("scene")
        counter_due = self.counter_later is not None
        for drawn, placement in enumerate(ordered):
            if drawn == half:
                self.layer("figures")
            if counter_due and not plan.subjects[placement.subject].figure:
                table(self.ctx, *self.counter_later)
                counter_due = False
            concept = self.concepts[placement.subject]
            if concept.name in HANGING:
                cord = max(2.0, placement.size * 0.02)
                top = placement.cy - placement.size * 0.38
                canvas.rect((placement.cx - cord / 2, 0, placement.cx + cord / 2, top), INK_GREY)
            draw_placement(canvas, placement, concept, self.style, floor, drop_shadow=drop)
            subject = plan.subjects[placement.subject]
            if subject.prop is not None:
                self.hold(placement, subject.prop, subject.prop_at, floor)
        if counter_due:
            table(self.ctx, *self.counter_later)
        if half == count:
            self.layer("figures")
        if not textured:
            self.layer("details")  # every figure, before the weather and type
        if weather:
            falling(canvas, weather, self.scene_rng, self.transparent)
        if plan.text and self.purpose == "slide":
            self.letter_panel()
        return self.finished()

    def finished(self) -> Image.Image:
        """The style's finish, or for a transparent picture the drawn parts over nothing."""
        canvas = self.canvas
        if self.textured():
            self.layer("details")
        if not self.transparent:
            return finish(canvas.image, self.style)
        return unblend(canvas.image, canvas.alpha, self.plan.background or (255, 255, 255))


def overcast(canvas: Canvas, weather: str) -> None:
    """The grey of a rainy (or white of a snowy) day over the background, muting the sun; drawn
    before the subjects so they keep their colours."""
    veil = Image.new("L", (canvas.width, canvas.height), 105 if weather == "rain" else 50)
    canvas.paste((120, 130, 145) if weather == "rain" else (235, 240, 248), veil, 0, 0, True)


def falling(canvas: Canvas, weather: str, rng: np.random.Generator, transparent: bool) -> None:
    """Rain or snow over the whole picture: slanted streaks (rain) or soft flakes (snow), light
    enough that the subject still reads."""
    w, h = canvas.width, canvas.height
    count = int(140 * w * h / 1024**2)
    xs = rng.uniform(0, w, count)
    ys = rng.uniform(0, h, count)
    mask = Image.new("L", (w, h), 0)
    pen = ImageDraw.Draw(mask)
    if weather == "rain":
        length, width = canvas.short * 0.05, max(1, int(canvas.short * 0.004))
        for x, y in zip(xs, ys, strict=True):
            pen.line([(x, y), (x - length * 0.3, y + length)], fill=150, width=width)
        canvas.paste((210, 225, 240), mask, 0, 0, True)
    else:
        for x, y in zip(xs, ys, strict=True):
            r = canvas.short * float(rng.uniform(0.004, 0.01))
            pen.ellipse((x - r, y - r, x + r, y + r), fill=230)
        canvas.paste((255, 255, 255), mask, 0, 0, True)


def flat_of_style() -> Style:
    return Style("flat", shading=False, shadows=False)


def drawings_of(subject: Subject) -> tuple[Concept, ...]:
    """The drawings a seed may pick for a subject: its near-ties, less those whose name says a
    colour when the prompt gave one ("a red apple" is never the drawing called green apple)."""
    choices = subject.alternatives or (subject.concept,)
    if subject.colours:
        choices = tuple(
            c
            for c in choices
            if c is subject.concept or not colours.BASIC.intersection(c.name.split())
        )
    return choices or (subject.concept,)


def natural_colour(concept: Concept) -> list[RGB]:
    """Some glyph names carry their colour ("red apple", "green book"); use it. Others have a
    colour of their own in lexicon.json (a potted plant is green, bread is golden)."""
    if concept.name in NATURAL_COLOURS:
        return [colours.hex_to_rgb(NATURAL_COLOURS[concept.name])]
    for word in concept.name.split():
        if word in colours.BASIC:
            found = colours.lookup(word, fuzzy=False)
            if found is not None:
                return [found]
    return []


def unblend(image: Image.Image, alpha: Image.Image | None, background: RGB) -> Image.Image:
    """Turn a picture drawn over a known colour into RGBA over nothing: edge pixels were mixed
    with the background, so that share is taken out again (no grey fringes)."""
    if alpha is None:
        return image.convert("RGBA")
    a = np.asarray(alpha, dtype=np.float32)[..., None] / 255.0
    rgb = np.asarray(image, dtype=np.float32)
    bg = np.array(background, dtype=np.float32)
    safe = np.maximum(a, 1e-3)
    out = np.where(a > 0, (rgb - bg * (1.0 - a)) / safe, 0.0)
    rgba = np.concatenate([np.clip(out, 0, 255), a * 255.0], axis=2).round().astype(np.uint8)
    return Image.fromarray(rgba, "RGBA")


__all__ = ["Drawing", "Illustrator", "contrast_ink"]
