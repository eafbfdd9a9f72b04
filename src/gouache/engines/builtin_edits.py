"""Edits, variations and previews for the built-in engine, made around the illustrator's public API.

The illustrator draws whole pictures from a prompt; everything here is image work around it:

- A masked edit redraws the masked (transparent) area: a small hole is filled from its
  surroundings and the prompt's subject drawn to fit it; a large area gets the prompt's whole
  scene. The new picture is feathered inward from the mask's edge. Pixels outside the mask are
  copied, never recomputed, so they stay identical.
- An unmasked edit makes a product shot: each input image's plain or transparent background is cut
  away, the subjects are scaled to fit, stood side by side on a ground line and given a soft shadow,
  in front of a scene drawn from the prompt.
- A variation keeps the input's composition and changes its palette, background or crop.

Previews are the intermediate states the work really passes through (the scene before the
subjects are placed; for a plain generation the illustrator's own layers), never the finished
picture sent early.
"""

from __future__ import annotations

import colorsys
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageOps

from gouache.engines.base import ImageRequest, decode_input
from gouache.engines.builtin_cutout import at_most, cut_out, has_alpha, trim
from gouache.engines.builtin_fill import fill_from_surroundings
from gouache.errors import InvalidRequest

# A stage of the work worth showing: the picture so far and the fraction of the work done.
Stages = Callable[[Image.Image, float], None]


@dataclass
class Result:
    image: Image.Image
    understood: str


def _ignore(_: Image.Image, __: float) -> None:
    return None


def _style(request: ImageRequest) -> str | None:
    return request.style if request.style not in (None, "vivid", "natural") else None


# -- masked edits -------------------------------------------------------------------------------


def masked_edit(
    illustrator: Any, request: ImageRequest, seed: int, stages: Stages = _ignore
) -> Result:
    """Redraw the transparent area of the mask from the prompt; keep every other pixel."""
    first = decode_input(request.images[0], "image 0")
    region = request.edit_region(first)
    assert region is not None
    box = region.getbbox()
    if box is None:
        raise InvalidRequest(
            "the mask has no fully transparent pixels, so there is nothing to edit; make the "
            "area to redraw fully transparent (alpha 0) in the mask",
            param="mask",
        )
    keep_alpha = has_alpha(first)
    base = first.convert("RGBA")
    width, height = base.size
    box_w, box_h = box[2] - box[0], box[3] - box[1]
    small_hole = box_w * box_h < 0.5 * width * height and min(box_w, box_h) >= 16
    prompt = what_to_draw(request.prompt)
    plan = illustrator.understand(prompt)
    place = illustrator.names_a_place(prompt) and min(box_w, box_h) >= 16
    wide = box_w >= 0.6 * width or box_w * box_h >= 0.3 * width * height
    if place and plan.subjects and plan.subjects[0].concept.name == "window":
        # "A window with a view of the city": the place, seen through a framed window.
        view = illustrator.backdrop(
            prompt, width=box_w, height=box_h, seed=seed, style=_style(request)
        )
        layer = base.copy()
        layer.alpha_composite(_framed(view.image), box[:2])
        edited = _blend(base, layer, region)
        return Result(_finish(edited, keep_alpha), f"a window with a view of {view.understood}")
    if place and small_hole and (wide or not plan.subjects):
        # A place in a wide hole ("a blue sky with a sun" over the top strip): the place's own
        # picture, drawn to the hole, not the surroundings continued with an icon in them. (A
        # hole of half the picture or more gets the whole scene, below.)
        if request.partial_images:
            stages(_blend(base, fill_from_surroundings(base, region), region), 0.4)
        scene, understood = _scene_for_hole(illustrator, request, prompt, box, base.size, seed)
        layer = base.copy()
        layer.paste(scene, box[:2])
        edited = _blend(base, layer, region)
        return Result(_finish(edited, keep_alpha), understood)
    if small_hole:
        # A small hole: continue the surroundings into it, then draw the prompt's subject there,
        # a little smaller than the hole's bounding box so a round hole does not clip it. (A
        # whole scene drawn at full size would put its own subject anywhere, often half in.)
        layer = fill_from_surroundings(base, region)
        stages(_blend(base, layer, region), 0.5)
        inner_w, inner_h = round(box_w * 0.8), round(box_h * 0.8)
        drawing = illustrator.draw(
            prompt,
            width=inner_w,
            height=inner_h,
            seed=seed,
            style=_style(request),
            transparent=True,
        )
        # The illustrator leaves room around its figures; the hole is the room here.
        subject = trim(drawing.image.convert("RGBA"))
        scale = min(inner_w / subject.width, inner_h / subject.height)
        subject = subject.resize(
            (max(1, round(subject.width * scale)), max(1, round(subject.height * scale))),
            Image.Resampling.LANCZOS,
        )
        # Standing near the hole's lower edge, as a thing put into a picture rests on something.
        bottom = box[1] + box_h - round(box_h * 0.06)
        layer.alpha_composite(
            subject, (box[0] + (box_w - subject.width) // 2, bottom - subject.height)
        )
    else:
        if request.partial_images:
            stages(_blend(base, fill_from_surroundings(base, region), region), 0.3)

        left = [request.partial_images - 1]  # previews still wanted after the fill

        def painted(_: str, picture: Image.Image, fraction: float) -> None:
            # The scene's own layers as they are painted, in the hole they will fill.
            if left[0] > 0:
                left[0] -= 1
                stages(_blend(base, picture.convert("RGBA"), region), 0.3 + 0.7 * fraction)

        drawing = illustrator.draw(
            prompt,
            width=width,
            height=height,
            seed=seed,
            style=_style(request),
            on_layer=painted if request.partial_images > 1 else None,
        )
        layer = drawing.image.convert("RGBA")
    edited = _blend(base, layer, region)
    return Result(_finish(edited, keep_alpha), drawing.understood)


# Instructions around what to draw ("replace it with a plant", "add a window"): the edit is the
# drawing, so only what follows them is read.
_INSTRUCTION = re.compile(
    r"^\s*(?:please\s+)?(?:(?:replace|fill|cover)(?:\s+(?:it|this|that|them|the\s+\w+(?:\s+area)?))?"
    r"\s+with|(?:change|turn|make)(?:\s+(?:it|this|that|them))?\s+(?:to|into)|add|put|place|"
    r"insert|draw|paint|show)\s+",
    re.IGNORECASE,
)


def what_to_draw(prompt: str) -> str:
    """The prompt without an editing instruction in front of it: "replace with a green plant"
    is a green plant (the instruction's words would otherwise be read as things to draw)."""
    stripped = _INSTRUCTION.sub("", prompt, count=1)
    return stripped if stripped.strip() else prompt


def _scene_for_hole(
    illustrator: Any,
    request: ImageRequest,
    prompt: str,
    box: tuple[int, int, int, int],
    size: tuple[int, int],
    seed: int,
) -> tuple[Image.Image, str]:
    """The prompt's scene drawn for a hole. A strip along the top edge shows the upper part of
    a taller picture of the place, a strip along the bottom edge the lower part, with the prompt's things laid out for the strip itself so none is cut
    by its edge; any other hole gets the whole scene fitted to it."""
    box_w, box_h = box[2] - box[0], box[3] - box[1]
    at_top, at_bottom = box[1] == 0, box[3] == size[1]
    style = _style(request)
    if at_top == at_bottom or box_w < 2 * box_h:
        drawing = illustrator.draw(prompt, width=box_w, height=box_h, seed=seed, style=style)
        return drawing.image.convert("RGBA"), drawing.understood
    # An open landscape ("a blue sky", "a green lawn") is its sky in its top half and its
    # grass in the bottom ~30%; any other place (a sea, a city, a beach) is shown nearly whole,
    # from the edge the strip runs along.
    open_land = illustrator.understand(prompt).setting == "sky"
    share = (0.5 if at_top else 0.3) if open_land else 0.85
    tall = min(round(box_h / share), 4096)
    place = illustrator.backdrop(prompt, width=box_w, height=tall, seed=seed, style=style)
    top = 0 if at_top else tall - box_h
    scene = place.image.convert("RGBA").crop((0, top, box_w, top + box_h))
    things = illustrator.draw(
        prompt, width=box_w, height=box_h, seed=seed, style=style, transparent=True
    )
    scene.alpha_composite(things.image.convert("RGBA"))
    return scene, things.understood.replace(" on a transparent background", "")


def _framed(view: Image.Image) -> Image.Image:
    """A view inside a white window frame with a cross of glazing bars and a soft inner shade."""
    framed = view.convert("RGBA")
    w, h = framed.size
    bar = max(3, round(min(w, h) * 0.045))
    draw = ImageDraw.Draw(framed)
    frame = (246, 246, 242, 255)
    draw.rectangle((0, 0, w - 1, h - 1), outline=frame, width=bar * 2)
    draw.rectangle((w // 2 - bar // 2, 0, w // 2 + bar // 2, h), fill=frame)
    draw.rectangle((0, h // 2 - bar // 2, w, h // 2 + bar // 2), fill=frame)
    draw.rectangle((0, h - bar * 3, w, h), fill=(228, 226, 220, 255))  # the sill
    return framed


def _blend(base: Image.Image, layer: Image.Image, region: Image.Image) -> Image.Image:
    """`layer` inside `region`, feathered inward from its edge; `base` everywhere else."""
    radius = max(1.0, min(base.size) / 96)
    feather = ImageChops.multiply(region.filter(ImageFilter.GaussianBlur(radius)), region)
    # Where the input itself is see-through there is nothing to blend with: take the new picture.
    hollow = base.getchannel("A").point(lambda a: 255 if a == 0 else 0)
    feather = ImageChops.lighter(feather, ImageChops.multiply(hollow, region))
    return Image.composite(layer, base, feather)


def _finish(image: Image.Image, keep_alpha: bool) -> Image.Image:
    return image if keep_alpha else image.convert("RGB")


# -- product shots ------------------------------------------------------------------------------


def product_shot(
    illustrator: Any, request: ImageRequest, seed: int, stages: Stages = _ignore
) -> Result:
    """The input images as the subjects of a scene drawn from the prompt."""
    width, height = request.width, request.height
    transparent = request.background == "transparent"
    subjects = [_as_subject(at_most(p, max(width, height))) for p in request.input_pictures()]
    if transparent:
        canvas = Image.new("RGBA", (width, height), (0, 0, 0, 0))
        understood = f"{len(subjects)} input image(s) on a transparent background"
        placed = _arrange(subjects, width, height)
    else:
        if illustrator.names_a_place(request.prompt):
            # A named place ("on a marble countertop in a kitchen", "at the beach"): the place
            # without the prompt's things, and the product standing where things stand in it.
            backdrop = illustrator.backdrop(
                request.prompt, width=width, height=height, seed=seed, style=_style(request)
            )
            picture, understood = backdrop.image, backdrop.understood
            placed = _stand(subjects, width, height, backdrop.stand, backdrop.on_surface)
        else:
            drawing = illustrator.draw(
                request.prompt, width=width, height=height, seed=seed, style=_style(request)
            )
            picture, understood = drawing.image, drawing.understood
            placed = _arrange(subjects, width, height)
        canvas = _soften(picture)
        understood = f"{len(subjects)} input image(s) in {understood}"
        stages(canvas.copy(), 0.4)
    canvas.alpha_composite(_shadow_layer(placed, width, height))
    stages(canvas.copy(), 0.7)
    for subject, (x, y) in placed:
        canvas.alpha_composite(subject, (x, y))
    return Result(canvas if transparent else canvas.convert("RGB"), understood)


def _soften(picture: Image.Image) -> Image.Image:
    """A touch of softness and light that puts a scene behind the product, as a shallow depth
    of field would (blurred at half size: a quarter of the work, and no detail is kept)."""
    width, height = picture.size
    half = picture.convert("RGB").reduce(2)
    half = half.filter(ImageFilter.GaussianBlur(min(width, height) / 320))
    half = Image.blend(half, Image.new("RGB", half.size, (255, 255, 255)), 0.18)
    return half.resize((width, height), Image.Resampling.BILINEAR).convert("RGBA")


def _stand(
    subjects: list[Image.Image],
    width: int,
    height: int,
    stand: tuple[float, float, float],
    on_surface: bool,
) -> list[tuple[Image.Image, tuple[int, int]]]:
    """Subjects standing on a place's counter, table or ground, at the scale of things there.

    On a counter or table top a product takes about a third of the frame's height and at most
    two thirds of the top's width, as a bottle or a box on a kitchen counter would; on open
    ground (a beach, a meadow) it stands in the foreground, a little larger.
    """
    y, x0, x1 = stand
    if not on_surface:
        y = min(y, height * 0.88)
        x0, x1 = width * 0.1, width * 0.9
    tallest = height * (0.36 if on_surface else 0.42)
    usable_h = min(tallest, y - height * 0.06)
    usable_w = (x1 - x0) * (0.66 if len(subjects) == 1 else 0.9)
    # Standing a little into the top's front edge, as things stand on a top seen from above.
    ground = y + height * 0.012
    return _arrange(subjects, width, height, ground, usable_w, usable_h, (x0 + x1) / 2)


def _as_subject(picture: Image.Image) -> Image.Image:
    """A cut-out subject, or the whole picture as a card with a white border when its
    background is a photo that cannot be cut away."""
    subject, separated = cut_out(picture)
    if separated:
        return trim(subject)
    card = ImageOps.expand(
        picture.convert("RGB"), border=max(2, min(picture.size) // 40), fill="white"
    )
    return card.convert("RGBA")


def _arrange(
    subjects: list[Image.Image],
    width: int,
    height: int,
    ground: float | None = None,
    across: float | None = None,
    tall: float | None = None,
    centre: float | None = None,
) -> list[tuple[Image.Image, tuple[int, int]]]:
    """Subjects side by side, standing on a ground line, scaled to share the frame (or the
    `across` x `tall` room given, centred on `centre`)."""
    count = len(subjects)
    gap = width * 0.04
    across = width * (0.78 if count == 1 else 0.88) if across is None else across
    usable_w = across - gap * (count - 1)
    usable_h = height * (0.62 if count == 1 else 0.55) if tall is None else tall
    ground = height * 0.86 if ground is None else ground
    # One scale for all keeps their relative sizes, unless that would make one a speck.
    slot_w = usable_w / count
    scaled = []
    for subject in subjects:
        scale = min(slot_w / subject.width, usable_h / subject.height)
        size = (max(1, round(subject.width * scale)), max(1, round(subject.height * scale)))
        scaled.append(subject.resize(size, Image.Resampling.LANCZOS))
    total = sum(s.width for s in scaled) + gap * (count - 1)
    x = (width if centre is None else 2 * centre) / 2 - total / 2
    placed = []
    for subject in scaled:
        placed.append((subject, (round(x), round(ground - subject.height))))
        x += subject.width + gap
    return placed


def _shadow_layer(
    placed: list[tuple[Image.Image, tuple[int, int]]], width: int, height: int
) -> Image.Image:
    """Soft elliptical contact shadows under the placed subjects, as a full-frame RGBA layer."""
    layer = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(layer)
    for subject, (x, y) in placed:
        foot = y + subject.height
        half_w = subject.width * 0.55
        half_h = max(3.0, subject.height * 0.045)
        centre = x + subject.width / 2
        draw.ellipse((centre - half_w, foot - half_h, centre + half_w, foot + half_h), fill=110)
    layer = layer.filter(ImageFilter.GaussianBlur(max(2.0, min(width, height) / 70)))
    shadow = Image.new("RGBA", (width, height), (20, 20, 30, 0))
    shadow.putalpha(layer)
    return shadow


# -- variations ---------------------------------------------------------------------------------


def variation(request: ImageRequest, seed: int, stages: Stages = _ignore) -> Result:
    """The input's composition again, with another palette, background or crop."""
    rng = random.Random(seed)
    width, height = request.width, request.height
    picture = at_most(request.input_pictures()[0], max(width, height))
    subject, separated = cut_out(picture)
    if separated:
        backdrop = _gradient(width, height, _shifted_palette(picture, rng))
        stages(backdrop.copy(), 0.4)
        subject = trim(subject)
        if rng.random() < 0.5:
            subject = ImageOps.mirror(subject)
        placed = _arrange([subject], width, height)
        # Another crop: the subject larger or smaller, and off centre.
        scale = rng.uniform(0.8, 1.15)
        (shape, (x, y)) = placed[0]
        resized = shape.resize(
            (max(1, round(shape.width * scale)), max(1, round(shape.height * scale))),
            Image.Resampling.LANCZOS,
        )
        dx = round(rng.uniform(-0.12, 0.12) * width)
        x = max(0, min(width - resized.width, x + (shape.width - resized.width) // 2 + dx))
        y = round(y + shape.height - resized.height)
        placed = [(resized, (x, y))]
        backdrop.alpha_composite(_shadow_layer(placed, width, height))
        stages(backdrop.copy(), 0.7)
        backdrop.alpha_composite(resized, (x, y))
        return Result(backdrop.convert("RGB"), "a variation with a new background and crop")
    # A full picture: turn its palette and take another crop of it.
    turned = _rotate_hue(picture.convert("RGB"), rng.uniform(0.15, 0.85))
    stages(turned.resize((width, height), Image.Resampling.BILINEAR), 0.5)
    zoom = rng.uniform(0.72, 0.92)
    crop_w, crop_h = turned.width * zoom, turned.height * zoom
    left = rng.uniform(0, turned.width - crop_w)
    top = rng.uniform(0, turned.height - crop_h)
    cropped = turned.crop((round(left), round(top), round(left + crop_w), round(top + crop_h)))
    if rng.random() < 0.5:
        cropped = ImageOps.mirror(cropped)
    fitted = ImageOps.fit(cropped, (width, height), Image.Resampling.LANCZOS)
    return Result(fitted, "a variation with another palette and crop")


def _dominant_colour(picture: Image.Image) -> tuple[int, int, int]:
    small = picture.convert("RGB").resize((32, 32), Image.Resampling.BILINEAR)
    colours = np.asarray(small, dtype=np.float32).reshape(-1, 3)
    saturation = colours.max(axis=1) - colours.min(axis=1)
    chosen = colours[saturation >= np.percentile(saturation, 75)]
    return tuple(int(v) for v in chosen.mean(axis=0))  # type: ignore[return-value]


def _shifted_palette(
    picture: Image.Image, rng: random.Random
) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """Two light background colours whose hue is turned away from the picture's main colour,
    so the subject stands out against them."""
    r, g, b = (v / 255 for v in _dominant_colour(picture))
    hue, _, _ = colorsys.rgb_to_hls(r, g, b)
    hue = (hue + rng.uniform(0.3, 0.7)) % 1.0
    top = colorsys.hls_to_rgb(hue, rng.uniform(0.82, 0.92), rng.uniform(0.35, 0.6))
    bottom = colorsys.hls_to_rgb(
        (hue + 0.05) % 1.0, rng.uniform(0.62, 0.74), rng.uniform(0.3, 0.55)
    )
    return (
        tuple(round(v * 255) for v in top),  # type: ignore[return-value]
        tuple(round(v * 255) for v in bottom),  # type: ignore[return-value]
    )


def _gradient(
    width: int, height: int, colours: tuple[tuple[int, int, int], tuple[int, int, int]]
) -> Image.Image:
    top, bottom = (np.array(c, dtype=np.float32) for c in colours)
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    rows = top * (1 - t) + bottom * t
    pixels = np.broadcast_to(rows, (height, width, 3)).astype(np.uint8)
    return Image.fromarray(pixels, "RGB").convert("RGBA")


def _rotate_hue(picture: Image.Image, turn: float) -> Image.Image:
    hsv = np.asarray(picture.convert("HSV"), dtype=np.uint16)
    hsv = hsv.copy()
    hsv[..., 0] = (hsv[..., 0] + round(turn * 256)) % 256
    return Image.fromarray(hsv.astype(np.uint8), "HSV").convert("RGB")


# -- previews of plain generations ----------------------------------------------------------


class _EvenLayers:
    """Passes on `wanted` of a picture's layers, evenly spread, as numbered previews.

    The illustrator spreads its fractions evenly over its layers and the finish (the i-th of m
    layers reports (i + 1) / (m + 1)), so the first layer tells how many there are."""

    def __init__(self, wanted: int, send: Callable[[int, Image.Image, float], None]) -> None:
        self.wanted, self.send = wanted, send
        self.layers = 0
        self.picked: set[int] = set()
        self.sent = 0

    def __call__(self, _: str, picture: Image.Image, fraction: float) -> None:
        if not self.layers:
            self.layers = max(1, round(1 / fraction) - 1)
            self.picked = spread(self.layers, self.wanted)
        if round(fraction * (self.layers + 1)) - 1 in self.picked:
            self.send(self.sent, picture, fraction)
            self.sent += 1


def spread(count: int, wanted: int) -> set[int]:
    """`wanted` of the positions 0..count-1, evenly spread: the first and the last and some
    between, or for one the middle; all of them when fewer than wanted."""
    if wanted >= count:
        return set(range(count))
    if wanted == 1:
        return {count // 2}
    return {round(k * (count - 1) / (wanted - 1)) for k in range(wanted)}


def generation(
    illustrator: Any,
    request: ImageRequest,
    seed: int,
    preview: Callable[[int, Image.Image, float], None] | None,
) -> Result:
    """A plain generation that shows the illustrator's own layers as it paints them (the scene,
    then figures, then details): `request.partial_images` of them picked evenly, fewer when
    the picture has fewer layers (a lone figure in a scene has only its scene to show)."""
    on_layer = None
    if preview is not None and request.partial_images:
        on_layer = _EvenLayers(
            request.partial_images,
            lambda index, picture, fraction: preview(index, _to_size(picture, request), fraction),
        )
    drawing = illustrator.draw(
        request.prompt,
        width=request.width,
        height=request.height,
        seed=seed,
        style=_style(request),
        transparent=request.background == "transparent",
        on_layer=on_layer,
    )
    return Result(drawing.image, drawing.understood)


# -- one request, with its previews ------------------------------------------------------------


def draw(
    illustrator: Any,
    request: ImageRequest,
    index: int,
    preview: Callable[[int, Image.Image, float], None] | None = None,
) -> Result:
    """Image `index` of an edit or variation (or a generation with previews), calling
    `preview(partial_image_index, picture, progress)` for up to `request.partial_images` of the
    stages the work passes through."""
    seed = request.seed + index
    shown: list[int] = []

    def stage(picture: Image.Image, progress: float) -> None:
        if preview is not None and len(shown) < request.partial_images:
            preview(len(shown), _to_size(picture, request), progress)
            shown.append(1)

    if request.operation == "variation":
        result = variation(request, seed, stage)
    elif request.operation == "edit" and request.mask is not None:
        result = masked_edit(illustrator, request, seed, stage)
    elif request.operation == "edit":
        result = product_shot(illustrator, request, seed, stage)
    else:
        result = generation(illustrator, request, seed, preview)
    result.image = _to_size(result.image, request)
    return result


def _to_size(picture: Image.Image, request: ImageRequest) -> Image.Image:
    """The requested output size. Only a masked edit works at the input's own size (so that the
    kept pixels are the input's); when the request asks for another size its result is scaled
    and, for another aspect ratio, centre-cropped to it."""
    size = (request.width, request.height)
    if picture.size == size:
        return picture
    return ImageOps.fit(picture, size, Image.Resampling.LANCZOS)
