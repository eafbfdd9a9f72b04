"""Cost of the built-in engine's edits, variations and previews, against a plain generation.

    python bench/builtin_edits.py      # prints a markdown table

For each size, every row is one image through `BuiltinEngine.run_batch`, PNG-encoded, median of
REPEATS runs over the prompts below. The baseline is a plain generation of the same size in the
same run (the machine is shared and noisy: compare the ratios). Preview rows encode each preview
to PNG, as a job layer storing them would.
"""

from __future__ import annotations

import os

# --- knobs -------------------------------------------------------------------------------------
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"
SIZES = ["512x512", "1024x1024"]
PROMPTS = ["a marble kitchen counter", "a red balloon", "a wooden shelf in a bright room"]
REPEATS = 3
# -----------------------------------------------------------------------------------------------

import io  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

from PIL import Image, ImageDraw  # noqa: E402

from gouache.engines.base import ImageRequest, Preview  # noqa: E402
from gouache.engines.builtin import BuiltinEngine  # noqa: E402


def png(picture: Image.Image) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def inputs(side: int) -> dict[str, bytes]:
    """A product on a white backdrop, a scene-like picture, and two masks."""
    product = Image.new("RGB", (side, side), "white")
    draw = ImageDraw.Draw(product)
    draw.rectangle((side * 0.35, side * 0.3, side * 0.65, side * 0.85), fill=(30, 60, 200))
    draw.ellipse((side * 0.4, side * 0.15, side * 0.6, side * 0.35), fill=(30, 60, 200))
    scene = Image.linear_gradient("L").resize((side, side)).convert("RGB")
    ImageDraw.Draw(scene).rectangle((0, side * 0.7, side, side), fill=(40, 140, 60))
    small = Image.new("RGBA", (side, side), (0, 0, 0, 255))
    ImageDraw.Draw(small).ellipse((side * 0.1, side * 0.1, side * 0.4, side * 0.4), fill=(0,) * 4)
    large = Image.new("RGBA", (side, side), (0, 0, 0, 255))
    ImageDraw.Draw(large).rectangle((0, 0, side * 0.9, side * 0.8), fill=(0,) * 4)
    return {"product": png(product), "scene": png(scene), "small": png(small), "large": png(large)}


def cases(size: str) -> dict[str, Callable[[str, int], ImageRequest]]:
    side = int(size.split("x")[0])
    made = inputs(side)

    def edit(**fields: object) -> Callable[[str, int], ImageRequest]:
        def build(prompt: str, partial: int) -> ImageRequest:
            values = {"prompt": prompt, "n": 1, "size": size, "seed": 1, "operation": "edit"}
            values.update(fields)
            return ImageRequest(**values, partial_images=partial)  # type: ignore[arg-type]

        return build

    return {
        "generation (baseline)": lambda prompt, partial: ImageRequest(
            prompt=prompt, n=1, size=size, seed=1, partial_images=partial
        ),
        "masked edit, small hole": edit(images=(made["scene"],), mask=made["small"]),
        "masked edit, large area": edit(images=(made["scene"],), mask=made["large"]),
        "product shot, 1 image": edit(images=(made["product"],)),
        "product shot, 3 images": edit(images=(made["product"],) * 3),
        "variation": edit(operation="variation", prompt="", images=(made["product"],)),
    }


def timed(engine: BuiltinEngine, build: Callable[[str, int], ImageRequest], partial: int) -> float:
    def keep(preview: Preview) -> None:
        preview.encode("png")

    times = []
    for _ in range(REPEATS):
        for prompt in PROMPTS:
            request = build(prompt, partial)
            started = time.perf_counter()
            engine.run_batch([request], keep)
            times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    engine = BuiltinEngine()
    engine.setup()
    print("| size | request | ms per image | vs generation | with 2 previews, ms | previews cost |")
    print("|---|---|---|---|---|---|")
    for size in SIZES:
        baseline = None
        for name, build in cases(size).items():
            plain = timed(engine, build, 0)
            previews = timed(engine, build, 2)
            baseline = baseline or plain
            print(
                f"| {size} | {name} | {plain:.0f} | {plain / baseline:.1f}x | {previews:.0f} | "
                f"{(previews - plain) / plain:+.0%} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
