"""Benchmark: throughput as `gouache worker` processes are added, and how fast an idle worker claims.

The engine is `instant` with `delay_s`: it sleeps a fixed time per one-image operation, standing
in for GPU time, so the ideal throughput with W workers is W / delay_s operations per second.
Operations are inserted straight into the shared database (as an API node does, NOTIFY included),
and the timings come from the database itself: `created_at` (insert), `claimed_at` (a worker's
claim) and `finished_at` (the result written).

- Throughput: for 1, 2, 4 and 8 worker processes, queue `per_worker * W` operations at once and
  measure from the first claim to the last result; reported as ops/s and as a fraction of ideal.
- Claim latency: with the workers idle, submit one operation at a time and record
  `claimed_at - created_at` (the NOTIFY round trip and the claim query), p50 and p99.

Usage: python bench/scale_out.py [--database URL] [--delay 0.2] [--per-worker 12]
Without --database a scratch PostgreSQL database is created on 127.0.0.1:5432 and dropped after.
Goals (issue 10): >= 0.9 of ideal at 8 workers; p99 submit-to-claimed < 10 ms.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from gouache.jobs.states import Status  # noqa: E402
from gouache.jobs.store import OperationStore, operations  # noqa: E402

CONFIG = """
[server]
lease_s = 30

[deployments.dall-e-2]
profile = "dall-e-2"
engine = "instant"
workers = 1

[deployments.dall-e-2.options]
delay_s = {delay}
max_batch_images = 1
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def scratch_postgres() -> tuple[str, callable]:
    import psycopg

    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    name = f"gouache_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"postgresql://postgres@127.0.0.1:5432/{name}", drop


def start_workers(count: int, database: str, storage: str, config: Path, tmp: Path) -> list:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOUACHE_")}
    env["PYTHONPATH"] = str(ROOT / "src")
    workers = []
    for index in range(count):
        port = free_port()
        command = [sys.executable, "-m", "gouache.cli.main", "worker", "--database", database]
        command += ["--storage", storage, "--config", str(config), "--metrics-port", str(port)]
        command += ["--data-dir", str(tmp / "worker-data"), "--log-level", "warning"]
        log = open(tmp / f"worker-{index}.log", "ab")  # noqa: SIM115 - the child owns it
        workers.append((subprocess.Popen(command, stdout=log, stderr=log, env=env), port))
        log.close()
    for process, port in workers:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"a worker exited; see {tmp}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
    return [process for process, _ in workers]


def stop_workers(processes: list) -> None:
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()


def insert(store: OperationStore, prompt: str) -> str:
    now = int(time.time())
    operation_id = str(uuid.uuid4())
    store.insert(
        id=operation_id,
        deployment="dall-e-2",
        created=now,
        expires=now + 3600,
        user="bench",
        n=1,
        size="256x256",
        prompt=prompt,
        params={"prompt": prompt, "n": 1, "size": "256x256", "seed": 1},
    )
    return operation_id


def timings(store: OperationStore, ids: list[str]) -> list[tuple[float, float, float | None]]:
    from sqlalchemy import select

    with store.engine.connect() as conn:
        rows = conn.execute(
            select(
                operations.c.created_at,
                operations.c.claimed_at,
                operations.c.finished_at,
                operations.c.status,
            ).where(operations.c.id.in_(ids))
        ).all()
    return [(r.created_at, r.claimed_at, r.finished_at) for r in rows if r.claimed_at]


def wait_done(
    store: OperationStore, ids: list[str], timeout: float = 300, poll: float = 0.1
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        recent = all(store.get(i).status == Status.SUCCEEDED for i in ids[-3:])
        if recent and all(store.get(i).status == Status.SUCCEEDED for i in ids):
            return
        time.sleep(poll)
    raise RuntimeError("operations did not finish")


def throughput(store: OperationStore, count: int, delay: float, per_worker: int) -> float:
    ids = [insert(store, f"throughput {count} {i}") for i in range(per_worker * count)]
    wait_done(store, ids)
    rows = timings(store, ids)
    first = min(claimed for _, claimed, _ in rows)
    last = max(finished for _, _, finished in rows)
    return len(ids) / (last - first)


def claim_latency(store: OperationStore, samples: int) -> tuple[list[float], list[float]]:
    """(submit-to-claimed, committed-to-claimed) per sample. Submit starts before the INSERT (as
    the API's does); committed is when the INSERT's commit returned, when the API would answer
    202. Polling here is slow on purpose: the timings come from the database, and a busy poll
    would take CPU from the worker being measured."""
    from_submit, from_commit = [], []
    for index in range(samples):
        operation_id = insert(store, f"latency {index}")
        committed = time.time()
        wait_done(store, [operation_id], poll=0.02)
        ((created, claimed, _),) = timings(store, [operation_id])
        from_submit.append(claimed - created)
        from_commit.append(claimed - committed)
    return from_submit, from_commit


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", help="default: a scratch PostgreSQL database")
    parser.add_argument("--delay", type=float, default=0.2, help="engine seconds per operation")
    parser.add_argument("--per-worker", type=int, default=12, help="operations per worker")
    parser.add_argument("--workers", default="1,2,4,8")
    parser.add_argument("--samples", type=int, default=200, help="claim-latency samples")
    args = parser.parse_args()
    drop = None
    database = args.database
    if not database:
        database, drop = scratch_postgres()
    tmp = Path(tempfile.mkdtemp(prefix="gouache-scale-"))
    config = tmp / "bench.toml"
    config.write_text(CONFIG.format(delay=args.delay))
    store = OperationStore(database)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores; python {platform.python_version()}"
    )
    print(f"database: {store.engine.url.get_backend_name()}; engine time {args.delay} s/op\n")
    print("| worker processes | ops/s | ideal ops/s | of ideal |")
    print("|---:|---:|---:|---:|")
    latencies: tuple[list[float], list[float]] = ([], [])
    try:
        for count in [int(c) for c in args.workers.split(",")]:
            processes = start_workers(count, database, str(tmp / "images"), config, tmp)
            try:
                measured = throughput(store, count, args.delay, args.per_worker)
                ideal = count / args.delay
                print(f"| {count} | {measured:.1f} | {ideal:.1f} | {measured / ideal:.2f} |")
                if count == 1:
                    latencies = claim_latency(store, args.samples)
            finally:
                stop_workers(processes)
    finally:
        store.close()
        if drop is not None:
            drop()
    print(f"\nclaim latency, 1 idle worker, {len(latencies[0])} samples:\n")
    print("| from | p50 ms | p99 ms | mean ms |")
    print("|---|---:|---:|---:|")
    for label, values in zip(
        ("submit (before INSERT)", "commit (202 sent)"), latencies, strict=True
    ):
        print(
            f"| {label} | {percentile(values, 0.5) * 1000:.2f} | "
            f"{percentile(values, 0.99) * 1000:.2f} | {statistics.mean(values) * 1000:.2f} |"
        )


if __name__ == "__main__":
    main()
