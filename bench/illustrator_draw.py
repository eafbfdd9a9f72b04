"""Drawing time of the illustrator on the evaluation set, against a baseline commit in the same run.

    python bench/illustrator_draw.py [--baseline 1dafbd7] [--rounds 3] [--size 1024]

The baseline's src/ is exported with `git archive` into a temporary folder; each round times the
baseline and then this tree in fresh processes, drawing every prompt of
bench/data/illustrator_eval.txt once to warm the caches and then timing a second pass (draw only,
no PNG encoding). The best round of each is reported, as the machine is shared.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

TIMER = r"""
import sys, time
from gouache.illustrator import Illustrator
size = int(sys.argv[2])
rows = [line.split("|", 1)[1].strip() for line in open(sys.argv[1], encoding="utf-8")
        if line.strip() and not line.startswith("#")]
illustrator = Illustrator()
illustrator.load()
for prompt in rows:
    illustrator.draw(prompt, width=size, height=size, seed=1)
start = time.perf_counter()
for prompt in rows:
    illustrator.draw(prompt, width=size, height=size, seed=1)
print(1000 * (time.perf_counter() - start) / len(rows))
"""


def time_tree(src: Path, size: int) -> float:
    env_path = str(src)
    out = subprocess.run(
        [sys.executable, "-c", TIMER, str(ROOT / "bench/data/illustrator_eval.txt"), str(size)],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"},
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", default="1dafbd7")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size", type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        archive = Path(folder) / "base.tar"
        subprocess.run(
            ["git", "archive", "-o", str(archive), args.baseline, "src"], cwd=ROOT, check=True
        )
        with tarfile.open(archive) as tar:
            tar.extractall(folder, filter="data")
        base_src = Path(folder) / "src"
        base, now = [], []
        for _ in range(args.rounds):
            base.append(time_tree(base_src, args.size))
            now.append(time_tree(ROOT / "src", args.size))
    print(f"baseline {args.baseline}: best {min(base):.1f} ms per picture, rounds {base}")
    print(f"this tree: best {min(now):.1f} ms per picture, rounds {now}")
    print(f"ratio: {min(now) / min(base):.2f}x")


if __name__ == "__main__":
    main()
