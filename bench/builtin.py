"""Benchmark the built-in illustrator: images per second for each size, n=1 and n=5, one core.

    python bench/builtin.py            # prints a markdown table

Each request is split into its steps: understanding (parse + encoder lookups, done once per
request and shared by its n images), scene (stage layout and background painting), figures
(glyphs, shadows, the style's finish) and PNG encoding (Pillow, compress_level=1). The floor is
the time to only PNG-encode the very same pictures, measured in the same run: the machine is
shared and noisy, so compare the ratio, not the absolute times.
"""

from __future__ import annotations

import os

# --- knobs -------------------------------------------------------------------------------------
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"
SIZES = ["256x256", "512x512", "1024x1024", "1792x1024", "1024x1792", "1536x1024", "1024x1536"]
PROMPTS = [
    "a red running shoe on a white background",
    "a cat next to a dog in a forest at sunset",
    "a slide background in navy, gold and white with space for a title",
    "three hot air balloons over the mountains",
    "a rocket in space, neon style",
]
REPEATS = 2  # each (size, n) is timed over REPEATS x len(PROMPTS) requests
# -----------------------------------------------------------------------------------------------

import io  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import numpy as np  # noqa: E402

from gouache.illustrator import Illustrator  # noqa: E402
from gouache.illustrator.illustrator import Sketch  # noqa: E402
from gouache.illustrator.parse import parse  # noqa: E402


def encode(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def request(prompt: str, width: int, height: int, n: int, seed: int) -> tuple[dict, list]:
    """One request of n images, the way the engine runs it, timed step by step."""
    times = dict.fromkeys(("understand", "scene", "figures", "encode"), 0.0)
    t0 = time.perf_counter()
    plan = parse(prompt)  # uncached on purpose: the worst case, a prompt never seen before
    times["understand"] += time.perf_counter() - t0
    images = []
    for index in range(n):
        rng = np.random.default_rng([seed + index, 1])
        t0 = time.perf_counter()
        sketch = Sketch(plan, plan.style, width, height, rng, False, np.random.default_rng(seed))
        sketch.stage_and_layout()
        t1 = time.perf_counter()
        image = sketch.rasterise()
        t2 = time.perf_counter()
        encode(image)
        t3 = time.perf_counter()
        times["scene"] += t1 - t0
        times["figures"] += t2 - t1
        times["encode"] += t3 - t2
        images.append(image)
    return times, images


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    Illustrator().load()
    for prompt in PROMPTS:  # warm caches: encoder, glyph masks, textures, as a running worker
        for size in SIZES:
            w, h = (int(v) for v in size.split("x"))
            request(prompt, w, h, 1, 0)
    print(
        f"machine: {platform.processor() or platform.machine()}, {platform.system()}, "
        f"Python {platform.python_version()}, pinned to 1 core"
    )
    print()
    print(
        "| size | n | images/s | ms/request | understand | scene | figures | PNG encode "
        "| encode-only floor (ms/request) | ratio to floor |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for size in SIZES:
        w, h = (int(v) for v in size.split("x"))
        for n in (1, 5):
            totals = dict.fromkeys(("understand", "scene", "figures", "encode"), 0.0)
            floor, requests, images_made = 0.0, 0, 0
            for repeat in range(REPEATS):
                for k, prompt in enumerate(PROMPTS):
                    times, images = request(prompt, w, h, n, seed=100 * repeat + k)
                    for key, value in times.items():
                        totals[key] += value
                    t0 = time.perf_counter()
                    for image in images:
                        encode(image)
                    floor += time.perf_counter() - t0
                    requests += 1
                    images_made += n
            total = sum(totals.values())
            per = {k: 1000 * v / requests for k, v in totals.items()}
            print(
                f"| {size} | {n} | {images_made / total:.1f} | {1000 * total / requests:.0f} "
                f"| {per['understand']:.1f} | {per['scene']:.1f} | {per['figures']:.1f} "
                f"| {per['encode']:.1f} | {1000 * floor / requests:.1f} "
                f"| {total / floor:.1f}x |"
            )


if __name__ == "__main__":
    main()
