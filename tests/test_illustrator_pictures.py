"""The built-in illustrator, checked on its pictures: what a person would look for in them."""

from __future__ import annotations

import io

import numpy as np
import pytest

from gouache.illustrator import Illustrator

SIZES = [
    (256, 256),
    (512, 512),
    (1024, 1024),
    (1792, 1024),
    (1024, 1792),
    (1024, 1536),
    (1536, 1024),
]


@pytest.fixture(scope="module")
def illustrator() -> Illustrator:
    return Illustrator()


def pixels(
    illustrator: Illustrator, prompt: str, size: int = 256, seed: int = 1, **kw
) -> np.ndarray:
    drawing = illustrator.draw(prompt, width=size, height=size, seed=seed, **kw)
    return np.asarray(drawing.image)


def components(mask: np.ndarray, min_pixels: int = 20) -> list[int]:
    """Sizes of the 4-connected blobs of True pixels (a plain flood fill, no scipy)."""
    seen = np.zeros_like(mask, dtype=bool)
    height, width = mask.shape
    sizes = []
    for y0, x0 in zip(*np.nonzero(mask), strict=True):
        if seen[y0, x0]:
            continue
        stack, count = [(y0, x0)], 0
        seen[y0, x0] = True
        while stack:
            y, x = stack.pop()
            count += 1
            for ny, nx in ((y + 1, x), (y - 1, x), (y, x + 1), (y, x - 1)):
                if 0 <= ny < height and 0 <= nx < width and mask[ny, nx] and not seen[ny, nx]:
                    seen[ny, nx] = True
                    stack.append((ny, nx))
        if count >= min_pixels:
            sizes.append(count)
    return sizes


def reddish(rgb: np.ndarray) -> np.ndarray:
    r, g, b = (rgb[..., k].astype(int) for k in range(3))
    return (r > 110) & (r > 2 * g) & (r > 2 * b)


def test_three_red_circles_on_white(illustrator: Illustrator) -> None:
    rgb = pixels(illustrator, "three red circles on a white background", size=384)
    blobs = components(reddish(rgb), min_pixels=200)
    assert len(blobs) == 3, blobs
    assert max(blobs) < 2.5 * min(blobs)  # three of a kind, not one circle and two crumbs
    near_white = (rgb.min(axis=2) > 235).mean()
    assert near_white > 0.5  # mostly white around them
    corners = rgb[[0, 0, -1, -1], [0, -1, 0, -1]]
    assert (corners.min(axis=1) > 225).all()


def test_blue_background_has_blue_corners(illustrator: Illustrator) -> None:
    for seed in range(3):
        rgb = pixels(illustrator, "a blue background", seed=seed).astype(int)
        for y, x in ((2, 2), (2, -3), (-3, 2), (-3, -3)):
            r, g, b = rgb[y, x]
            assert b > r + 40 and b > g, (seed, (y, x), (r, g, b))


def test_dog_on_the_left_is_in_the_left_half(illustrator: Illustrator) -> None:
    plain = pixels(illustrator, "a dog on a white background", size=384).astype(int)
    left = pixels(illustrator, "a dog on the left on a white background", size=384).astype(int)
    ink = left.min(axis=2) < 200  # the dog and its shadow; the background is white
    xs = np.nonzero(ink)[1]
    assert xs.size > 500
    assert (xs < 192).mean() > 0.8
    assert not np.array_equal(plain, left)


def test_dog_on_the_left_in_a_scene(illustrator: Illustrator) -> None:
    empty = pixels(illustrator, "a meadow under a blue sky", size=384, seed=3).astype(int)
    scene = pixels(
        illustrator, "a dog on the left in a meadow under a blue sky", size=384, seed=3
    ).astype(int)
    changed = np.abs(scene - empty).sum(axis=2) > 60
    xs = np.nonzero(changed)[1]
    assert xs.size > 500
    assert (xs < 192).mean() > 0.75


def test_seed_reproduces_bytes(illustrator: Illustrator) -> None:
    def png(seed: int) -> bytes:
        image = illustrator.draw(
            "a cat next to a dog in a forest", width=512, height=512, seed=seed
        ).image
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", compress_level=1)
        return buffer.getvalue()

    assert png(42) == png(42)


def test_different_seeds_differ(illustrator: Illustrator) -> None:
    images = [pixels(illustrator, "a lighthouse on the beach", seed=seed) for seed in range(5)]
    for i in range(5):
        for j in range(i + 1, 5):
            assert np.abs(images[i].astype(int) - images[j].astype(int)).mean() > 2.0


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_every_size_is_drawn_natively(illustrator: Illustrator, width: int, height: int) -> None:
    drawing = illustrator.draw(
        "a red car in the city at sunset", width=width, height=height, seed=7
    )
    assert drawing.image.size == (width, height)
    assert drawing.image.mode == "RGB"
    rgb = np.asarray(drawing.image)
    assert rgb.std() > 20  # a composed picture, not a flat fill


def test_gibberish_still_gives_a_picture(illustrator: Illustrator) -> None:
    drawing = illustrator.draw("zxqv blorf ##!! 12345 qqqq", width=256, height=256, seed=0)
    rgb = np.asarray(drawing.image)
    assert rgb.std() > 10
    assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 50
    assert drawing.understood


def test_empty_prompt_still_gives_a_picture(illustrator: Illustrator) -> None:
    rgb = np.asarray(illustrator.draw("", width=256, height=256, seed=0).image)
    assert rgb.std() > 10


def test_transparent_background(illustrator: Illustrator) -> None:
    drawing = illustrator.draw("a red apple", width=256, height=256, seed=3, transparent=True)
    rgba = np.asarray(drawing.image)
    assert drawing.image.mode == "RGBA"
    assert (rgba[[0, 0, -1, -1], [0, -1, 0, -1], 3] == 0).all()
    opaque = rgba[..., 3] > 250
    assert opaque.mean() > 0.03  # the apple is there
    assert reddish(rgba[..., :3][opaque]).mean() > 0.3


@pytest.mark.parametrize(
    "style", ["flat", "line", "pastel", "neon", "retro", "monochrome", "gouache"]
)
def test_styles_change_the_picture(illustrator: Illustrator, style: str) -> None:
    base = pixels(illustrator, "a fox in the forest", seed=5, style="flat").astype(int)
    styled = pixels(illustrator, "a fox in the forest", seed=5, style=style).astype(int)
    if style == "flat":
        assert np.array_equal(base, styled)
        return
    assert np.abs(base - styled).mean() > 3
    if style == "monochrome":
        hsv = np.asarray(
            illustrator.draw(
                "a fox in the forest", width=256, height=256, seed=5, style=style
            ).image.convert("HSV")
        )
        assert np.median(hsv[..., 1]) < 110  # one hue, not the full colour wheel
    if style == "neon":
        assert styled.mean() < base.mean()  # neon glows on a dark ground


def test_slide_background_leaves_space_for_a_title(illustrator: Illustrator) -> None:
    rgb = np.asarray(
        illustrator.draw(
            "a slide background in navy, gold and white with space for a title",
            width=1792 // 4,
            height=1024 // 4,
            seed=2,
        ).image
    ).astype(int)
    h, w, _ = rgb.shape
    title = rgb[int(h * 0.3) : int(h * 0.7), int(w * 0.1) : int(w * 0.5)]
    assert title.std(axis=(0, 1)).max() < 25  # calm: a gradient, no shapes
    navy = np.array([1, 21, 62])
    assert np.abs(title.mean(axis=(0, 1)) - navy).max() < 60


def test_understood_sentence(illustrator: Illustrator) -> None:
    text = illustrator.draw(
        "three red circles on a white background", width=256, height=256, seed=0
    ).understood
    assert "three red circles" in text and "white background" in text
    text = illustrator.draw(
        "a puppy in the snow, line art", width=256, height=256, seed=0
    ).understood
    assert "dog" in text and "snow" in text and "line" in text


def test_drafts_of_one_prompt_differ_in_composition(illustrator: Illustrator) -> None:
    """Five seeds of a product shot are five drafts: the red shoe sits and scales differently."""
    boxes = set()
    for seed in range(5):
        rgb = pixels(illustrator, "a red running shoe on a white background", seed=seed)
        ys, xs = np.nonzero(reddish(rgb))
        assert xs.size > 500, seed  # the shoe is drawn, and red, on every draft
        box = (xs.min(), ys.min(), xs.max(), ys.max())
        boxes.add(tuple(int(round(v / 8)) for v in box))
    assert len(boxes) >= 3, boxes


def test_drafts_keep_a_stated_position(illustrator: Illustrator) -> None:
    """Varying the composition never moves what the prompt pinned: the dog stays on the left."""
    for seed in range(5):
        rgba = pixels(illustrator, "a dog on the left", seed=seed, transparent=True)
        xs = np.nonzero(rgba[..., 3] > 128)[1]
        assert xs.size > 2000, seed
        assert (xs < 128).mean() > 0.95 and xs.mean() < 256 * 0.4, (seed, xs.mean())
        rgb = pixels(illustrator, "a dog on the left on a white background", seed=seed)
        xs = np.nonzero(rgb.min(axis=2) < 200)[1]  # the dog and its shadow on white
        assert xs.size > 2000, seed
        assert (xs < 128).mean() > 0.95 and xs.mean() < 256 * 0.4, (seed, xs.mean())


def test_drafts_mirror_the_drawing_on_some_seeds(illustrator: Illustrator) -> None:
    """Some drafts face the other way: the same red shoe, mirrored, at the same size."""
    shapes = []
    for seed in range(6):
        rgb = pixels(illustrator, "a red running shoe on a white background", seed=seed)
        red = reddish(rgb)
        ys, xs = np.nonzero(red)
        crop = red[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
        # Which half of its box carries more red: a mirrored shoe swaps it.
        half = crop.shape[1] // 2
        shapes.append(crop[:, :half].sum() > crop[:, half:].sum())
    assert len(set(shapes)) == 2, shapes
