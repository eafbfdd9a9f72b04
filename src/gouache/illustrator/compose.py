"""Layout: where each thing goes, how big, in which order, adapted to the aspect ratio.

Subjects are expanded into instances (three dogs are three instances), grouped in rows, then
placed by the rules a person reads into a prompt: an explicit position ("on the left") pins the
group to a region; a relation places a group relative to another ("above", "on", "next to");
flying things go to the sky band, everything else stands on the ground line of the scene.

The seed varies what the prompt leaves open, the way a designer's drafts differ: the scale of the
arrangement (within about 15%), where an unpinned arrangement sits across the frame (left third,
centre or right third for a single thing; a smaller drift for a group), a little height for
things in the air, and jitter in size and spacing within rows. Stated positions, relations and
counts are never moved by the seed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .colours import RGB
from .concepts import singular
from .lexicon import HANGING
from .parse import Plan, Subject
from .scenes import Stage

# Things that belong in the air rather than on the ground (layout physics, not word matching).
AIRBORNE = (
    "bird",
    "airplane",
    "plane",
    "balloon",
    "airballoon",
    "kite",
    "cloud",
    "sun",
    "moon",
    "star",
    "rocket",
    "butterfly",
    "bee",
    "drone",
    "helicopter",
    "ufo",
    "bat",
    "eagle",
    "dove",
    "parachute",
    "satellite",
    "comet",
    "planet",
    "owl",
    "parrot",
    "feather",
    "flying",
)
# Seeded scale of the whole arrangement: designer drafts differ by about 15% either way. Pinned
# things ("on the left") only shrink, so they stay in the part of the frame they were asked for.
SCALES = (0.86, 0.93, 1.0, 1.07, 1.14)
PINNED_SCALES = (0.86, 0.93, 1.0)
# Where a single unpinned thing sits, as a fraction of the free room either side of the centre:
# centre, left third, right third (in the order successive drafts take them).
SHIFTS = (0.0, -1.0, 1.0)
POSITION_XY = {
    "left": (0.25, None),
    "right": (0.75, None),
    "center": (0.5, None),
    "top": (None, 0.27),
    "bottom": (None, 0.8),
    "top-left": (0.2, 0.22),
    "top-right": (0.8, 0.22),
    "bottom-left": (0.2, 0.8),
    "bottom-right": (0.8, 0.8),
}


@dataclass
class Placement:
    """One glyph to draw: centre, size (pixels, the glyph's em size), colour and layer."""

    subject: int
    cx: float
    cy: float
    size: float
    colour: RGB
    grounded: bool
    layer: int = 0
    flip: bool = False  # drawn mirrored left-right


def airborne(subject: Subject) -> bool:
    words = subject.concept.name.split() + subject.phrase.split()
    # Whole words (or their plurals): "beer" is no "bee", "planetarium" no "planet".
    return any(w in AIRBORNE or singular(w) in AIRBORNE for w in words)


def layout(
    plan: Plan,
    stage: Stage,
    width: int,
    height: int,
    rng: np.random.Generator,
    colour_for: list[list[RGB]],
    region: tuple[float, float, float, float] | None = None,
    draft: int | None = None,
) -> list[Placement]:
    """Place every instance of every subject. `region` (x0, y0, x1, y1 in pixels) confines the
    layout, e.g. to the right part of a slide whose left part is kept for a title. `draft` (one
    step per seed) walks successive pictures through the placements and scales, so n drafts
    differ for sure rather than by chance; without it the generator picks."""
    x0, y0, x1, y1 = region or (0.0, 0.0, float(width), float(height))
    rw, rh = x1 - x0, y1 - y0
    short = min(rw, rh)
    subjects = plan.subjects
    if not subjects:
        return []
    people = [g for g, s in enumerate(subjects) if s.figure]
    if stage.surface is not None and people and len(people) < len(subjects):
        return depth_planes(plan, stage, width, height, rng, colour_for, region, draft)
    # Groups in reading order; relations chain them (A above B -> A's group sits over B's).
    total = sum(min(s.count, 12) for s in subjects)
    free_groups = [
        i for i, s in enumerate(subjects) if s.position is None and not is_related(i, plan)
    ]
    # Base size: one thing fills about half the short side; many things share the width.
    row_capacity = max(1, min(total, 4 if rw >= rh else 3))
    base = min(short * 0.55, rw * 0.86 / (row_capacity + 0.2 * (row_capacity - 1)))
    if stage.surface is not None:
        base = min(base, short * 0.34)
    if draft is None:
        draft = int(rng.integers(1 << 30))
    pinned = any(s.position is not None for s in subjects)
    scales = PINNED_SCALES if pinned else SCALES
    base *= scales[draft * 2 % len(scales)]  # 0.86, 1.0, 1.14, 0.93, 1.07 for drafts 0..4
    # Across the frame: a single thing goes to a third or the centre, a group drifts less.
    shift = SHIFTS[draft % 3] * (1.0 if total == 1 else float(rng.uniform(0.25, 0.5)))
    lift = float(rng.uniform(-0.05, 0.05))  # height of things in the air, fraction of the frame
    placements: list[Placement] = []
    centres: dict[int, tuple[float, float, float]] = {}  # group -> (cx, cy, size)
    order = layout_order(plan)
    slots = np.linspace(0, 1, len(free_groups) + 2)[1:-1] if free_groups else []
    slot_of = {g: float(s) for g, s in zip(free_groups, slots, strict=True)}
    for g in order:
        subject = subjects[g]
        count = min(subject.count, 12)
        size = base * subject.size * (0.92 if count > 1 else 1.0)
        if count > 4:
            size *= 0.75
        flying = airborne(subject) and not subject.figure
        if subject.figure:
            # A person stands taller than the things on a table, and about half a room's height.
            size = max(size * 1.3, short * 0.42)
        # Group centre.
        cx = x0 + rw * slot_of.get(g, 0.5)
        on_surface = stage.surface is not None and not flying and not subject.figure
        ground = stage.surface[0] if on_surface else stage.ground
        if subject.figure and stage.surface is not None:
            ground -= height * 0.07  # further back, behind the table
        ground = min(max(ground, y0 + size * 0.9), y1 - size * 0.08)
        cy = ground - size * 0.5
        if flying:
            cy = y0 + ((stage.sky_top + stage.sky_bottom) / 2 / height + lift) * rh
        if subject.position:
            px, py = POSITION_XY[subject.position]
            if subject.position.startswith("top"):
                flying = True  # pinned up high: it floats, no ground shadow
                size *= 0.75
            if px is not None:
                cx = x0 + rw * px
            if py is not None:
                cy = y0 + rh * py
        anchor = related_anchor(g, plan)
        if anchor is not None and anchor[0] in centres:
            relation, (ax, ay, asize) = anchor[1], centres[anchor[0]]
            if relation == "above":
                cx, cy = ax, ay - asize * 0.5 - size * 0.62
            elif relation == "below" and not flying and not airborne(subjects[anchor[0]]):
                # "a cat under a table": on the same floor, between the table's legs
                size = min(size, asize * 0.5)
                cx, cy = ax, ay + asize * 0.5 - size * 0.5
            elif relation == "below":
                cx, cy = ax, ay + asize * 0.5 + size * 0.55
            elif relation == "on":
                size = min(size, asize * 0.6)
                cx, cy = ax, ay - asize * 0.42 - size * 0.5
            elif relation in ("beside", "right of", "left of"):
                # Beside the anchor's whole row, not just its centre.
                anchor_half = group_half_width(subjects[anchor[0]].count, asize)
                half = group_half_width(count, size)
                side = -1 if relation == "left of" else 1
                cx = ax + side * (anchor_half + half + size * 0.12)
                same_ground = subject.figure == subjects[anchor[0]].figure
                if not flying and same_ground:
                    cy = ay + (asize - size) * 0.5
                # a laptop next to people in a room stays on the table, on its own ground
            elif relation == "front":
                cx, cy = ax + asize * 0.25, ay + asize * 0.28
                size = max(size, asize * 0.8)
            elif relation == "inside":
                # "a brain inside a light bulb": centred in the anchor, small enough to fit.
                size = asize * 0.42
                cx, cy = ax, ay - asize * 0.1
                flying = True
            elif relation == "behind":
                cx, cy = ax - asize * 0.3, ay - asize * 0.2
                size = min(size, asize * 0.8)
        if subject.concept.name in HANGING:
            flying = True  # pendant lights hang high, on cords drawn from the top edge
            size = min(size, short * 0.22)
            cy = y0 + rh * 0.3
        if (
            subject.concept.name == "handshake"
            and anchor is not None
            and anchor[0] in centres
            and subjects[anchor[0]].figure
        ):
            ax, ay, asize = centres[anchor[0]]
            cx, cy, size = ax, ay + asize * 0.02, asize * 0.42  # between the two people's hands
            flying = True
        colours = colour_for[g]
        narrow = 0.62 if subject.figure else 1.0
        placed = row(g, count, cx, cy, size, colours, not flying, rng, (x0, y0, x1, y1), narrow)
        if anchor is not None and anchor[1] == "inside":
            for p in placed:
                p.layer = 1  # drawn over the thing it is inside
        placements.extend(placed)
        group = [p for p in placements if p.subject == g]
        centres[g] = (
            float(np.mean([p.cx for p in group])),
            float(np.mean([p.cy for p in group])),
            max(p.size for p in group),
        )
    # Keep the whole arrangement inside the frame: shrink and shift if needed; centre it when
    # the prompt pinned nothing to a side.
    return fit(placements, (x0, y0, x1, y1), centre=not pinned, shift=shift)


def depth_planes(
    plan: Plan,
    stage: Stage,
    width: int,
    height: int,
    rng: np.random.Generator,
    colour_for: list[list[RGB]],
    region: tuple[float, float, float, float] | None,
    draft: int | None,
) -> list[Placement]:
    """People behind a table and the things on it: two rows at two depths, each spread across
    the width, instead of one long row where everyone is small. Relations between a person and
    a thing ("people next to a laptop") are kept as being at the same table."""
    planes: list[Placement] = []
    for wanted in (True, False):
        groups = [g for g, s in enumerate(plan.subjects) if s.figure == wanted]
        subjects = [replace(plan.subjects[g], relation=None, anchor=None) for g in groups]
        part = replace(plan, subjects=subjects)
        placed = layout(
            part, stage, width, height, rng, [colour_for[g] for g in groups], region, draft
        )
        for p in placed:
            p.subject = groups[p.subject]
            if not wanted:
                # Things on a table are smaller than the people at it.
                tallest = max((q.size for q in planes), default=height * 0.4)
                p.size = min(p.size, height * 0.2, tallest * 0.5)
                p.cy = stage.surface[0] - p.size * 0.5
        if not wanted and planes:
            between_people(planes, placed)
        planes.extend(placed)
    return planes


def between_people(people: list[Placement], things: list[Placement]) -> None:
    """Move the things on a table into the gaps between the people behind it (and at the ends),
    so that no one is hidden behind a plant."""
    xs = sorted(p.cx for p in people)
    half = max(p.size for p in people) * 0.32
    gaps = [(a + b) / 2 for a, b in zip(xs, xs[1:], strict=False)] + [
        xs[0] - half * 1.6,
        xs[-1] + half * 1.6,
    ]
    for thing, x in zip(sorted(things, key=lambda q: q.cx), gaps, strict=False):
        thing.cx = x


def group_half_width(count: int, size: float) -> float:
    per_row = min(count, 5)
    return ((per_row - 1) * size * 1.08 + size) / 2


def row(
    g: int,
    count: int,
    cx: float,
    cy: float,
    size: float,
    colours: list[RGB],
    grounded: bool,
    rng: np.random.Generator,
    frame: tuple[float, float, float, float],
    narrow: float = 1.0,
) -> list[Placement]:
    """Lay `count` copies in one row (or a few rows), centred on (cx, cy), slightly varied.
    `narrow` < 1 packs tall, thin drawings (standing people) closer than their em size."""
    x0, _, x1, _ = frame
    per_row = count if count <= 5 else int(np.ceil(count / np.ceil(count / 5)))
    rows = int(np.ceil(count / per_row))
    spacing = size * (1.08 if grounded else 1.25) * narrow
    width = (per_row - 1) * spacing
    limit = (x1 - x0) * 0.9
    if width + size > limit and per_row > 1:
        scale = limit / (width + size)
        if grounded:
            cy += size * (1 - scale) * 0.5  # smaller, but still standing on the same ground
        size *= scale
        spacing *= scale
    out = []
    for k in range(count):
        r, c = divmod(k, per_row)
        in_row = min(per_row, count - r * per_row)
        x = cx + (c - (in_row - 1) / 2) * spacing
        y = cy + (r - (rows - 1) / 2) * size * 0.95
        jitter = 1.0 if count == 1 else float(rng.uniform(0.9, 1.06))
        dy = 0.0 if grounded or count == 1 else float(rng.uniform(-0.25, 0.25)) * size
        x += 0.0 if count == 1 else float(rng.uniform(-0.05, 0.05)) * size
        s = size * jitter
        if grounded:
            y += (size - s) * 0.5  # keep feet on the same line
        out.append(Placement(g, x, y + dy, s, colours[k % len(colours)], grounded, layer=r))
    return out


def fit(
    placements: list[Placement],
    frame: tuple[float, float, float, float],
    centre: bool = False,
    shift: float = 0.0,
) -> list[Placement]:
    """Shrink and shift the arrangement into the frame. With `centre`, it is centred across the
    frame and then moved by `shift` (-1..1) of the free room either side, at most a sixth of the
    frame's width: the left third, the middle or the right third."""
    if not placements:
        return placements
    x0, y0, x1, y1 = frame
    margin = min(x1 - x0, y1 - y0) * 0.04
    left = min(p.cx - p.size * 0.5 for p in placements)
    right = max(p.cx + p.size * 0.5 for p in placements)
    top = min(p.cy - p.size * 0.5 for p in placements)
    bottom = max(p.cy + p.size * 0.5 for p in placements)
    scale = min(
        1.0,
        (x1 - x0 - 2 * margin) / max(1.0, right - left),
        (y1 - y0 - 2 * margin) / max(1.0, bottom - top),
    )
    # Shrink towards the ground line, not the middle: things that stand keep standing.
    grounded = any(p.grounded for p in placements)
    mx, my = (left + right) / 2, bottom if grounded else (top + bottom) / 2
    for p in placements:
        p.cx = mx + (p.cx - mx) * scale
        p.cy = my + (p.cy - my) * scale
        p.size *= scale
    left = min(p.cx - p.size * 0.5 for p in placements)
    right = max(p.cx + p.size * 0.5 for p in placements)
    top = min(p.cy - p.size * 0.5 for p in placements)
    bottom = max(p.cy + p.size * 0.5 for p in placements)
    dx = max(0.0, x0 + margin - left) - max(0.0, right - (x1 - margin))
    if centre:
        room = max(0.0, (x1 - x0 - 2 * margin - (right - left)) / 2)
        dx = (x0 + x1) / 2 - (left + right) / 2 + shift * min(room * 0.85, (x1 - x0) / 6)
    dy = max(0.0, y0 + margin - top) - max(0.0, bottom - (y1 - margin))
    for p in placements:
        p.cx += dx
        p.cy += dy
    return placements


def is_related(g: int, plan: Plan) -> bool:
    return related_anchor(g, plan) is not None


def related_anchor(g: int, plan: Plan) -> tuple[int, str] | None:
    """(other group, relation as seen from g) when g is placed relative to another group."""
    subject = plan.subjects[g]
    if subject.relation and subject.anchor is not None and subject.relation not in ("in", "for"):
        if subject.relation in ("beside", "left of"):
            # "A next to B": B is placed to the right of A; A itself is free.
            return None
        return subject.anchor, subject.relation
    for other, s in enumerate(plan.subjects):
        if s.anchor == g and s.relation in ("beside", "left of"):
            return other, "right of" if s.relation == "beside" else "right of"
    return None


def layout_order(plan: Plan) -> list[int]:
    """Anchors before the things placed relative to them."""
    order: list[int] = []
    pending = list(range(len(plan.subjects)))
    for _ in range(len(pending) + 1):
        for g in list(pending):
            anchor = related_anchor(g, plan)
            if anchor is None or anchor[0] in order or anchor[0] not in pending:
                order.append(g)
                pending.remove(g)
    return order + pending
