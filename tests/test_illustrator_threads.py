"""The illustrator is thread-safe: pictures drawn from several threads at once, starting from cold
caches, are byte for byte the pictures drawn one at a time; shared data loads exactly once."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from gouache.illustrator import Illustrator
from gouache.illustrator.illustrator import understand
from gouache.illustrator.loading import LockedLRU, filled_once

ROOT = Path(__file__).resolve().parents[1]

# Runs in a fresh interpreter, so the concurrent pass starts with every cache empty (the index,
# the tokenizer, fonts, glyph masks, silhouettes, textures) and threads race to fill them. A tiny
# switch interval makes the threads change hands between a few bytecodes, not every 5 ms.
SCRIPT = r"""
import hashlib, json, sys
from concurrent.futures import ThreadPoolExecutor
from gouache.engines.encoding import encode_image
from gouache.illustrator import Illustrator

sys.setswitchinterval(1e-6)
prompts = json.loads(sys.argv[1])
jobs = [(p, s, style, transparent, size)
        for k, p in enumerate(prompts)
        for s, style, transparent, size in [
            (k, None, False, (256, 256)),
            (k + 1, ["line", "neon", "pastel", "retro", "gouache", "monochrome"][k % 6],
             k % 5 == 0, (320, 192) if k % 2 else (192, 320)),
        ]]
illustrator = Illustrator()  # not loaded: the first draws load it, from several threads

def draw(job):
    prompt, seed, style, transparent, (w, h) = job
    drawing = illustrator.draw(prompt, width=w, height=h, seed=seed, style=style,
                               transparent=transparent)
    data = encode_image(drawing.image, "png")
    return hashlib.sha256(data).hexdigest() + " " + drawing.understood

with ThreadPoolExecutor(4) as threads:
    together = list(threads.map(draw, jobs))
alone = [draw(job) for job in jobs]
print(json.dumps({"jobs": len(jobs),
                  "differ": [jobs[i][0] for i, (a, b) in enumerate(zip(together, alone)) if a != b]}))
"""


def varied_prompts() -> list[str]:
    rows = (ROOT / "bench" / "data" / "illustrator_eval.txt").read_text(encoding="utf-8")
    prompts = [
        line.split("|", 1)[1].strip()
        for line in rows.splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return prompts + [
        'a logo for a bakery called "Rise"',
        "a business card for Ada Lovelace, mathematician",
        "a brand board in #1e90ff and coral with a rocket",
        "a striped pattern in teal and gold",
        "a set of business icons in teal",
        "a banner for a coffee roastery with space for text, in #3b2418, #c8553d, #f4e9d8 and #588b8b",
        "a world map with network lines",
        "snow falling on a cabin in the mountains at night",
    ]


def test_pictures_drawn_from_many_threads_at_once_are_the_pictures_drawn_one_at_a_time():
    prompts = varied_prompts()
    assert len(prompts) >= 70
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(prompts)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["jobs"] == 2 * len(prompts)
    assert result["differ"] == []


def test_drawing_leaves_the_shared_reading_of_a_prompt_as_it_was():
    """n pictures (and threads) of one prompt share one parsed Plan: drawing must not change it."""
    illustrator = Illustrator()
    for prompt in varied_prompts()[::3]:
        plan = understand(prompt)
        before = repr(plan)
        for seed in range(3):
            illustrator.draw(prompt, width=192, height=192, seed=seed)
        assert understand(prompt) is plan
        assert repr(plan) == before, prompt


def test_a_loader_runs_once_however_many_threads_ask_at_the_same_time():
    calls = []

    @filled_once
    def load(name: str) -> list[str]:
        calls.append(name)
        time.sleep(0.05)  # long enough for every thread to arrive while it loads
        return [name]

    start = threading.Barrier(8)

    def ask(_: int) -> list[str]:
        start.wait()
        return load("index")

    with ThreadPoolExecutor(8) as threads:
        got = list(threads.map(ask, range(8)))
    assert calls == ["index"]
    assert all(value is got[0] for value in got)
    assert load("other") == ["other"] and calls == ["index", "other"]


def test_the_glyph_cache_keeps_its_limit_under_concurrent_writers():
    cache = LockedLRU(50)
    start = threading.Barrier(4)

    def write(worker: int) -> None:
        start.wait()
        for k in range(2000):
            cache.remember((worker, k), k)
            cache.get((worker, k - 1))

    with ThreadPoolExecutor(4) as threads:
        list(threads.map(write, range(4)))
    assert len(cache._items) == 50
    assert cache.get((0, 1999)) in (None, 1999)
