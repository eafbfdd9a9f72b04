"""Benchmark `make_deck`: what writing a deck costs on top of making its pictures.

    python bench/deck.py              # prints a markdown table

Three timings over the same five-slide deck on the in-process built-in engine, in one run (the
machine is shared and noisy, so compare the ratios, not the absolute times):

* baseline: the five pictures alone, one `generate_images` call each, at the sizes the deck asks
  for them;
* deck, first run: `make_deck` into a fresh folder (pictures, crops, stand-ins none, .pptx);
* deck, re-run: the same command again (every picture kept, only the .pptx written).
"""

from __future__ import annotations

# --- knobs -------------------------------------------------------------------------------------
REPEATS = 5
ROWS = [
    {"title": "Trail Runner 2", "description": "A red running shoe on a white background."},
    {"title": "City Commuter Bike", "description": "A green bicycle in the city."},
    {"title": "Studio Headphones", "description": "Headphones on a desk."},
    {"title": "Thermo Travel Mug", "description": "A coffee cup on a table."},
    {"title": "Summit Backpack", "prompt": "a backpack in the mountains", "layout": "Full Picture"},
]
# -----------------------------------------------------------------------------------------------

import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from gouache import generate_images, make_deck  # noqa: E402


def _time(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        probe = make_deck(ROWS, root / "probe.pptx", seed=7)  # also warms imports and fonts
        prompts = [report.prompt for report in probe.slides]
        baseline, first, again = [], [], []
        for index in range(REPEATS):
            out = root / f"pictures-{index}"
            baseline.append(
                _time(
                    lambda out=out: [
                        generate_images(p, size="1024x1024", seed=8 + i, out=out, local=True)
                        for i, p in enumerate(prompts)
                    ]
                )
            )
            deck = root / f"deck-{index}.pptx"
            first.append(_time(lambda deck=deck: make_deck(ROWS, deck, seed=7, local=True)))
            again.append(_time(lambda deck=deck: make_deck(ROWS, deck, seed=7, local=True)))
    base = statistics.median(baseline)
    print(
        f"machine: {platform.machine()} {platform.processor() or ''}, python {platform.python_version()}"
    )
    print(f"median of {REPEATS} runs, 5 slides, built-in engine\n")
    print("| what | seconds | vs. baseline |")
    print("|---|---|---|")
    for name, times in (
        ("baseline: 5 x generate_images", baseline),
        ("make_deck, first run", first),
        ("make_deck, re-run (all kept)", again),
    ):
        median = statistics.median(times)
        print(f"| {name} | {median:.2f} | {median / base:.2f}x |")


if __name__ == "__main__":
    main()
