"""Benchmark: do polls, submits, metrics scrapes and the expiry sweeper stay flat as history grows?

For 1k, 10k, 100k and 500k stored operations (mostly finished: live results and the tombstones of
deleted ones that `gouache usage` keeps for 30 days, plus a small queue) it measures, on the
operation store and service that `gouache serve` runs:

- poll: reading one operation by id (the GET route's store call);
- submit: the queue-depth check and the insert of a new operation;
- scrape: rendering /metrics, whose store gauges are read at scrape time;
- idle sweep: one expiry sweep with nothing to expire (what runs every minute);

and, at the largest size, the time to expire 10k operations at once.

Baseline, measured in the same run on a copy of the same database: what 0.1 did. Its /metrics ran a
GROUP BY status over the whole table, its sweeper found expired rows with `expires <= now AND
status IN (finished)` and purged tombstones with only the 0.1 indexes (so SQLite walks every row of
a status), and it expired operations one transaction per row.

Rows are built with one bulk INSERT per size, not through the API.

Usage: python bench/store_growth.py [--sizes 1000,10000,100000,500000]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from gouache.config import default_deployments
from gouache.jobs.service import OperationService
from gouache.jobs.states import FINISHED, Status
from gouache.metrics import Metrics
from gouache.settings import load_settings

QUEUED = 64
EXPIRE_AT_ONCE = 10_000
PARAMS = json.dumps({"prompt": "a red shoe", "n": 1, "size": "256x256", "seed": 1})
RESULT = json.dumps({"created": 0, "data": [{"name": "0.png"}]})


def build(database: Path, count: int, now: int) -> list[str]:
    """Bulk-insert `count` operations: 60% tombstones, the rest live results and a queue."""
    rows = []
    ids = []
    for index in range(count):
        operation_id = str(uuid.uuid4())
        ids.append(operation_id)
        if index < QUEUED:
            status, expires, result = Status.NOT_RUNNING.value, now + 86400, None
        elif index % 5 < 3:
            status, expires, result = (
                Status.DELETED.value,
                now - random.randint(1, 20 * 86400),
                None,
            )
        else:
            status, expires, result = (
                Status.SUCCEEDED.value,
                now + random.randint(60, 86400),
                RESULT,
            )
        created = expires - 86400
        rows.append(
            (
                operation_id,
                "dall-e-2",
                status,
                created,
                float(created),
                expires,
                created + 1.0,
                f"user-{index % 97}",
                1,
                "256x256",
                "a red shoe",
                PARAMS,
                result,
                None,
                1,
                1,
                None,
                "",
            )
        )
    with sqlite3.connect(database) as conn:
        conn.executemany(
            "INSERT INTO operations (id, deployment, status, created, created_at, expires, "
            "finished_at, user, n, size, prompt, params, result, error, attempts, images, worker, "
            "tenant) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
    return ids


def median_us(function, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1e6


def service_for(data_dir: Path) -> OperationService:
    settings = load_settings(overrides={"data_dir": data_dir}, environ={})
    return OperationService(settings, default_deployments("instant"), Metrics())


def old_sweep(conn: sqlite3.Connection, now: int, retention: int) -> None:
    finished = tuple(s.value for s in FINISHED)
    conn.execute(
        "SELECT id FROM operations WHERE expires <= ? AND status IN (?,?,?) LIMIT 500",
        (now, *finished),
    ).fetchall()
    conn.execute(
        "SELECT count(*) FROM operations WHERE status = 'deleted' AND expires <= ?",
        (now - retention,),
    ).fetchall()  # the purge's search, without deleting


def old_scrape(conn: sqlite3.Connection, metrics: Metrics) -> None:
    conn.execute("SELECT status, count(*) FROM operations GROUP BY status").fetchall()
    metrics.render()


def measure(size: int, tmp: Path, expire_at_once: bool) -> dict[str, float]:
    data_dir = tmp / f"data-{size}"
    service = service_for(data_dir)
    store = service.store
    now = int(time.time())
    started = time.perf_counter()
    ids = build(store.path, size, now)
    built_s = time.perf_counter() - started
    # the 0.1 layout on a copy: the same rows without the (status, expires) index
    old_path = tmp / f"old-{size}.db"
    with sqlite3.connect(store.path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(store.path, old_path)
    old = sqlite3.connect(old_path, isolation_level=None)
    old.execute("DROP INDEX ix_operations_status_expires")
    old.execute("ANALYZE")
    store.engine.dispose()
    with sqlite3.connect(store.path) as conn:
        conn.execute("ANALYZE")
    retention = service.settings.deleted_retention_s
    picks = random.choices(ids, k=2000)
    position = iter(range(10**9))

    def submit() -> None:
        store.count_unfinished()
        store.insert(
            id=str(uuid.uuid4()),
            deployment="dall-e-2",
            created=now,
            expires=now + 86400,
            user="bench",
            n=1,
            size="256x256",
            prompt="p",
            params={"prompt": "p"},
        )

    result = {
        "rows": size,
        "build_s": built_s,
        "poll_us": median_us(lambda: store.get(picks[next(position) % len(picks)]), 2000),
        "submit_us": median_us(submit, 300),
        "scrape_us": median_us(service.metrics.render, 200),
        "scrape_old_us": median_us(lambda: old_scrape(old, Metrics()), 20 if size > 10**5 else 100),
        "sweep_us": median_us(lambda: service.sweep(now), 50),
        "sweep_old_us": median_us(
            lambda: old_sweep(old, now, retention), 10 if size > 10**5 else 50
        ),
    }
    if expire_at_once:
        live = [
            row[0]
            for row in old.execute(
                "SELECT id FROM operations WHERE status = 'succeeded' LIMIT ?", (EXPIRE_AT_ONCE,)
            )
        ]
        for chunk in range(0, len(live), 500):
            part = live[chunk : chunk + 500]
            sql = f"UPDATE operations SET expires = ? WHERE id IN ({','.join('?' * len(part))})"
            old.execute(sql, (now - 1, *part))
            with store.engine.begin() as conn:
                conn.exec_driver_sql(sql, (now - 1, *part))
        started = time.perf_counter()
        expired = service.sweep(now)
        result["expire_10k_s"] = time.perf_counter() - started
        assert expired == len(live), (expired, len(live))
        # 0.1: find up to 500, then one transaction per row (and an rmtree per operation)
        images = service.images
        started = time.perf_counter()
        finished = tuple(s.value for s in FINISHED)
        while rows := old.execute(
            "SELECT id FROM operations WHERE expires <= ? AND status IN (?,?,?) LIMIT 500",
            (now, *finished),
        ).fetchall():
            for (operation_id,) in rows:
                old.execute("BEGIN")
                old.execute(
                    "UPDATE operations SET status = 'deleted', result = NULL "
                    "WHERE id = ? AND status IN (?,?,?)",
                    (operation_id, *finished),
                )
                old.execute("COMMIT")
                images.delete(operation_id)
        result["expire_10k_old_s"] = time.perf_counter() - started
    old.close()
    service.stop()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000,500000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    random.seed(9)
    print(
        f"# {platform.machine()} {platform.processor() or ''}, Python {platform.python_version()}"
    )
    header = "| stored | poll µs | submit µs | scrape µs (0.1) | idle sweep µs (0.1) |"
    print(header)
    print("|---:|---:|---:|---:|---:|")
    last = None
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            row = measure(size, Path(tmp), expire_at_once=size == sizes[-1])
            print(
                f"| {size:,} | {row['poll_us']:.0f} | {row['submit_us']:.0f} | "
                f"{row['scrape_us']:.0f} ({row['scrape_old_us']:.0f}) | "
                f"{row['sweep_us']:.0f} ({row['sweep_old_us']:.0f}) |",
                flush=True,
            )
            last = row
    if last and "expire_10k_s" in last:
        print(
            f"\nexpire 10k at once among {last['rows']:,}: {last['expire_10k_s']:.2f} s "
            f"(0.1, one transaction per row: {last['expire_10k_old_s']:.2f} s)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
