"""Benchmark: does engine work block the event loop?

Starts `gouache serve` with the built-in engine, measures GET-operation latency while it is idle
(the baseline), then queues 40 operations of five 1024x1024 pictures and measures the same GETs
while the workers draw. Engines run in worker threads; the illustrator spends most of its time in
Pillow and numpy, which release the GIL, so polls should barely notice.

Usage: python bench/responsiveness.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loadgen import run_load  # noqa: E402
from service import HOST, free_port, wait_up  # noqa: E402

SUBMIT = "/openai/images/generations:submit?api-version=2023-06-01-preview"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    port = free_port()
    base = f"http://{HOST}:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOUACHE_")}
    env.update(GOUACHE_LOG_LEVEL="warning", GOUACHE_QUEUE_MAX="1000")
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "gouache.cli.main", "serve", "--host", HOST]
        command += ["--port", str(port), "--data-dir", str(Path(tmp) / "data")]
        server = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
        try:
            wait_up(f"{base}/readyz")
            first = httpx.post(base + SUBMIT, json={"prompt": "a boat", "size": "256x256"})
            path = first.headers["operation-location"].removeprefix(base)
            httpx.get(base + path)
            idle = asyncio.run(
                run_load(HOST, port, "GET", path, concurrency=1, seconds=args.seconds)
            )
            for _ in range(40):
                body = {
                    "prompt": "a lighthouse on the beach at sunset",
                    "n": 5,
                    "size": "1024x1024",
                }
                assert httpx.post(base + SUBMIT, json=body).status_code == 202
            busy = asyncio.run(
                run_load(HOST, port, "GET", path, concurrency=1, seconds=args.seconds)
            )
            metrics = httpx.get(f"{base}/metrics").text.splitlines()
            depth = next(m.split()[1] for m in metrics if m.startswith("gouache_queue_depth "))
        finally:
            server.terminate()
            server.wait(30)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print("| GET operation, concurrency 1 | req/s | p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|")
    for name, result in (("engine idle (baseline)", idle), ("engine drawing 1024x1024 x5", busy)):
        print(
            f"| {name} | {result.rate:,.0f} | {result.percentile(50) * 1000:.2f} | "
            f"{result.percentile(99) * 1000:.2f} | {max(result.latencies) * 1000:.1f} |"
        )
    print(f"\noperations still queued when the busy run ended: {depth}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
