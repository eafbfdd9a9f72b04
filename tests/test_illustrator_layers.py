"""The illustrator reports its layers as it paints them, and the built-in engine streams them.

Layers must be real progress: each a different, earlier state of the picture, never the finished
picture, sent in order; asking for them must change nothing in the picture itself, from one
thread or several.
"""

from __future__ import annotations

import io
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

from gouache.engines.base import ImageRequest, Preview
from gouache.engines.builtin import BuiltinEngine
from gouache.illustrator import Illustrator

# Several figures and weather: a scene, the figures at the back, then the rest and the rain.
BUSY = "three cats and a dog in a park in the rain"
CASES = [
    (BUSY, None, False, (256, 256)),
    ("a slide about growth with the title 'Q3 results' and two people", None, False, (320, 192)),
    ("a watercolor fox in a forest", None, False, (192, 256)),  # a textured finish
    ("a logo for 'Acme' with a rocket", None, False, (256, 256)),
    ("two red apples and a pear on a table", None, True, (256, 256)),  # transparent
    ("four birds over a lake", "neon", False, (12, 10)),  # tiny: drawn at 16, then reduced
    ("a red apple on a table", None, False, (256, 256)),  # the room, then the table in it
    ("a kitchen with two people cooking", "retro", False, (256, 192)),
    ("a lighthouse at dusk", None, False, (256, 256)),
]


@pytest.fixture(scope="module")
def illustrator() -> Illustrator:
    drawer = Illustrator()
    drawer.load()
    return drawer


@pytest.fixture(scope="module")
def engine() -> BuiltinEngine:
    built = BuiltinEngine({"warm_up": False})
    built.setup()
    return built


def _layers(illustrator: Illustrator, prompt, style, transparent, size, seed=5):
    """The drawing and its layers, each layer's pixels frozen as bytes the moment it arrives."""
    got: list[tuple[str, Image.Image, bytes, float]] = []

    def on_layer(name: str, picture: Image.Image, fraction: float) -> None:
        got.append((name, picture, picture.tobytes(), fraction))

    drawing = illustrator.draw(
        prompt,
        width=size[0],
        height=size[1],
        seed=seed,
        style=style,
        transparent=transparent,
        on_layer=on_layer,
    )
    return drawing, got


@pytest.mark.parametrize(("prompt", "style", "transparent", "size"), CASES)
def test_layers_change_nothing_in_the_picture(illustrator, prompt, style, transparent, size):
    drawing, layers = _layers(illustrator, prompt, style, transparent, size)
    plain = illustrator.draw(
        prompt, width=size[0], height=size[1], seed=5, style=style, transparent=transparent
    )
    assert drawing.image.tobytes() == plain.image.tobytes()
    assert drawing.image.mode == plain.image.mode
    assert drawing.understood == plain.understood
    for name, picture, frozen, _ in layers:
        # A copy: what was drawn after the layer was sent did not reach it.
        assert picture.tobytes() == frozen, name
        assert picture.size == size and picture.mode == drawing.image.mode
        assert frozen != drawing.image.tobytes(), f"layer {name} is the finished picture"
    names = [name for name, *_ in layers]
    assert names == [n for n in ("background", "scene", "figures", "details") if n in names]
    fractions = [fraction for *_, fraction in layers]
    assert fractions == [(i + 1) / (len(layers) + 1) for i in range(len(layers))]


def test_a_busy_picture_has_every_layer_and_each_is_further_along(illustrator):
    drawing, layers = _layers(illustrator, *CASES[0])
    assert [name for name, *_ in layers] == ["scene", "figures", "details"]
    final = np.asarray(drawing.image, dtype=np.int16)
    distances = [
        float(np.abs(np.asarray(picture, dtype=np.int16) - final).mean())
        for _, picture, *_ in layers
    ]
    # Each layer is closer to the finished picture than the one before it.
    assert distances == sorted(distances, reverse=True) and distances[-1] > 0


def test_layers_from_many_threads_are_the_layers_of_one(illustrator):
    jobs = [(case, seed) for case in CASES[:4] for seed in range(3)]

    def run(job):
        (prompt, style, transparent, size), seed = job
        drawing, layers = _layers(illustrator, prompt, style, transparent, size, seed)
        return drawing.image.tobytes(), [(name, frozen) for name, _, frozen, _ in layers]

    alone = [run(job) for job in jobs]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        with ThreadPoolExecutor(4) as pool:
            together = list(pool.map(run, jobs))
    finally:
        sys.setswitchinterval(interval)
    assert together == alone


def _previews(engine: BuiltinEngine, partial_images: int, prompt: str = BUSY):
    got: list[Preview] = []
    request = ImageRequest(
        prompt=prompt, n=1, size="256x256", seed=5, partial_images=partial_images
    )
    (images,) = engine.run_batch([request], got.append)
    final = Image.open(io.BytesIO(images[0].data))
    final.load()
    return got, final.convert("RGB")


def test_streamed_generation_previews_are_the_painting_in_progress(engine):
    previews, final = _previews(engine, 3)
    assert len(previews) == 3
    assert [p.partial_image_index for p in previews] == [0, 1, 2]
    progress = [p.progress for p in previews]
    assert progress == sorted(progress) and len(set(progress)) == 3 and progress[0] > 0
    assert progress[-1] < 1
    pixels = [np.asarray(p.image.convert("RGB"), dtype=np.int16) for p in previews]
    target = np.asarray(final, dtype=np.int16)
    for i, picture in enumerate(pixels):
        assert picture.shape == target.shape
        assert not np.array_equal(picture, target), f"preview {i} is the final image"
        for other in pixels[i + 1 :]:
            assert not np.array_equal(picture, other)
    first, last = (float(np.abs(p - target).mean()) for p in (pixels[0], pixels[-1]))
    assert last < first


@pytest.mark.parametrize(("wanted", "expected"), [(1, [0.5]), (2, [0.25, 0.75]), (3, None)])
def test_fewer_previews_than_layers_are_picked_evenly(engine, wanted, expected):
    previews, _ = _previews(engine, wanted)
    progress = [p.progress for p in previews]
    assert progress == (expected or [0.25, 0.5, 0.75])


def test_a_picture_with_fewer_layers_sends_fewer_previews(engine):
    previews, final = _previews(engine, 3, "a lighthouse at dusk")
    # The landscape, before the lighthouse: the only stage before the finished picture.
    assert [p.progress for p in previews] == [0.5]
    assert not np.array_equal(np.asarray(previews[0].image.convert("RGB")), np.asarray(final))


@pytest.mark.parametrize("prompt", [BUSY, "a red apple on a table", "a lighthouse at dusk"])
def test_the_engine_sends_the_same_image_with_or_without_previews(engine, prompt):
    def encoded(partial_images: int) -> bytes:
        request = ImageRequest(
            prompt=prompt, n=2, size="320x256", seed=8, partial_images=partial_images
        )
        got: list[Preview] = []
        (images,) = engine.run_batch([request], got.append)
        assert (len(got) > 0) == (partial_images > 0)
        return b"".join(image.data for image in images)

    assert encoded(3) == encoded(0)


def test_a_large_masked_edit_previews_the_scene_painted_into_the_hole(engine):
    size = 256
    photo = Image.new("RGB", (size, size), (40, 90, 160))
    mask = Image.new("RGBA", (size, size), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (0, 0, size, 200))  # redraw all but the bottom strip
    encoded = []
    for picture in (photo, mask):
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG")
        encoded.append(buffer.getvalue())
    request = ImageRequest(
        prompt=BUSY,
        n=1,
        size="256x256",
        seed=5,
        operation="edit",
        images=(encoded[0],),
        mask=encoded[1],
        partial_images=3,
    )
    got: list[Preview] = []
    (images,) = engine.run_batch([request], got.append)
    final = np.asarray(Image.open(io.BytesIO(images[0].data)).convert("RGB"), dtype=np.int16)
    # The hole filled from around it, then the scene's layers as the illustrator paints them.
    assert len(got) == 3
    progress = [p.progress for p in got]
    assert progress == sorted(progress) and len(set(progress)) == 3
    pixels = [np.asarray(p.image.convert("RGB"), dtype=np.int16) for p in got]
    kept = np.asarray(photo, dtype=np.int16)[210:]
    for i, picture in enumerate(pixels):
        assert np.array_equal(picture[210:], kept)  # outside the mask, the input's own pixels
        assert not np.array_equal(picture, final)
        for other in pixels[i + 1 :]:
            assert not np.array_equal(picture, other)
    assert np.abs(pixels[-1] - final).mean() < np.abs(pixels[0] - final).mean()
