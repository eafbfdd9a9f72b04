"""Benchmark: gouache's own overhead, with an engine that does no work.

Runs, in one go and on loopback, (a) a bare Starlette app and (b) `gouache serve --engine instant`,
each as its own uvicorn process, and drives both with the same keep-alive load generator:

- GET-operation throughput at concurrency 1, 8, 32 (gouache: a real stored, succeeded operation
  with two signed image links; bare: a constant JSON body of the same shape), and the server
  process's CPU time per request (lowest round), which a shared machine disturbs less;
- submit latency p50/p99 (async `:submit`, 202) against the bare JSON POST;
- submit-to-succeeded latency through the synchronous /v1 route, which covers validation, the
  durable insert, waking a worker, the engine call, writing the images and the answer.

Usage: python bench/service.py [--seconds 3] [--requests 400] [--rounds 3] [--database URL]
Goals (from the issues): GET throughput >= 0.8x bare at concurrency 1, 8 and 32;
submit-to-succeeded p99 < 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loadgen import run_load  # noqa: E402

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def start_bare(port: int) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "bare_app:app",
        "--host",
        HOST,
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
        # the settings `gouache serve` runs with: h11 (its connection guard extends uvicorn's
        # h11 protocol, so httptools, where installed, would flatter only the baseline) and the
        # default event loop
        "--http",
        "h11",
        "--loop",
        "auto",
    ]
    return subprocess.Popen(command, cwd=Path(__file__).parent)


def start_gouache(port: int, data_dir: Path, database: str | None = None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOUACHE_")}
    env["GOUACHE_QUEUE_MAX"] = "100000"
    env["GOUACHE_LOG_LEVEL"] = "warning"
    command = [
        sys.executable,
        "-m",
        "gouache.cli.main",
        "serve",
        "--engine",
        "instant",
        "--host",
        HOST,
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
    ]
    if database:
        command += ["--database", database]
    return subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux): the cost per request it gives is far
    less disturbed by other work on a shared machine than a rate is."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(
    args: argparse.Namespace, bare: tuple[int, int], ours: tuple[int, int]
) -> list[str]:
    (bare_port, bare_pid), (gouache_port, gouache_pid) = bare, ours
    base = f"http://{HOST}:{gouache_port}"
    submitted = httpx.post(
        f"{base}/openai/images/generations:submit?api-version=2023-06-01-preview",
        json={"prompt": "bench", "n": 2, "size": "256x256"},
    )
    location = submitted.headers["operation-location"]
    for _ in range(100):
        if httpx.get(location).json()["status"] == "succeeded":
            break
        time.sleep(0.05)
    op_path = location.removeprefix(base)

    rows = ["| measure | concurrency | bare Starlette | gouache | ratio |", "|---|---|---|---|---|"]
    cpu_rows = []
    for concurrency in (1, 8, 32):
        # alternating rounds, best of each side: the machine is shared, and a burst of someone
        # else's work would otherwise land on one side only
        rate = {"bare": 0.0, "gouache": 0.0}
        cpu = {"bare": float("inf"), "gouache": float("inf")}
        for _ in range(args.rounds):
            for side, port, pid, path in (
                ("bare", bare_port, bare_pid, "/operation"),
                ("gouache", gouache_port, gouache_pid, op_path),
            ):
                before = cpu_seconds(pid)
                result = await run_load(
                    HOST, port, "GET", path, concurrency=concurrency, seconds=args.seconds
                )
                used = cpu_seconds(pid) - before
                assert set(result.statuses) == {200}, (side, result.statuses)
                rate[side] = max(rate[side], result.rate)
                cpu[side] = min(cpu[side], used / result.requests * 1e6)
        rows.append(
            f"| GET operation, req/s | {concurrency} | {rate['bare']:,.0f} | "
            f"{rate['gouache']:,.0f} | {rate['gouache'] / rate['bare']:.2f} |"
        )
        cpu_rows.append(
            f"| GET operation, server CPU µs per request | {concurrency} | {cpu['bare']:.0f} | "
            f"{cpu['gouache']:.0f} | {cpu['gouache'] / cpu['bare']:.2f} |"
        )
    rows += cpu_rows

    body = json.dumps({"prompt": "a red shoe", "size": "256x256"}).encode()
    bare = await run_load(
        HOST,
        bare_port,
        "POST",
        "/generate",
        concurrency=1,
        seconds=60,
        max_requests=args.requests,
        body=body,
    )
    submit = await run_load(
        HOST,
        gouache_port,
        "POST",
        "/openai/images/generations:submit?api-version=2023-06-01-preview",
        concurrency=1,
        seconds=60,
        max_requests=args.requests,
        body=body,
    )
    assert set(submit.statuses) == {202}, submit.statuses
    done = await run_load(
        HOST,
        gouache_port,
        "POST",
        "/v1/images/generations",
        concurrency=1,
        seconds=60,
        max_requests=args.requests,
        body=body,
    )
    assert set(done.statuses) == {200}, done.statuses
    for label, result in (
        ("submit (202) latency", submit),
        ("submit-to-succeeded latency (/v1, sync)", done),
    ):
        for p in (50, 99):
            rows.append(
                f"| {label} p{p}, ms | 1 | {ms(bare.percentile(p))} | "
                f"{ms(result.percentile(p))} | {result.percentile(p) / bare.percentile(p):.1f} |"
            )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per throughput run")
    parser.add_argument("--requests", type=int, default=400, help="per latency run")
    parser.add_argument(
        "--database", help="gouache's database URL (default: SQLite in a scratch data dir)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="alternating GET rounds per side")
    args = parser.parse_args()
    bare_port, gouache_port = free_port(), free_port()
    with tempfile.TemporaryDirectory() as tmp:
        bare = start_bare(bare_port)
        gouache = start_gouache(gouache_port, Path(tmp) / "data", args.database)
        try:
            wait_up(f"http://{HOST}:{bare_port}/operation")
            wait_up(f"http://{HOST}:{gouache_port}/readyz")
            rows = asyncio.run(measure(args, (bare_port, bare.pid), (gouache_port, gouache.pid)))
        finally:
            for process in (bare, gouache):
                process.terminate()
                process.wait(10)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
