"""The operation store over a real SQLite file: claiming, restart recovery, expiry, usage."""

from __future__ import annotations

import multiprocessing
import time
import uuid
from pathlib import Path

from gouache.jobs.states import Status
from gouache.jobs.store import OperationStore


def _insert(
    store: OperationStore, *, user: str | None = "u", n: int = 1, expires: int | None = None
):
    now = int(time.time())
    return store.insert(
        id=str(uuid.uuid4()),
        deployment="dall-e-2",
        created=now,
        expires=expires if expires is not None else now + 100,
        user=user,
        n=n,
        size="256x256",
        prompt="p",
        params={"prompt": "p", "n": n, "size": "256x256", "seed": 1},
    )


def _claim_all(path: str, name: str, barrier) -> list[str]:
    store = OperationStore(Path(path))
    barrier.wait()
    claimed: list[str] = []
    while batch := store.claim("dall-e-2", name, limit=2):
        claimed.extend(op.id for op in batch)
    store.close()
    return claimed


def test_two_processes_on_one_file_never_claim_the_same_operation(tmp_path):
    path = tmp_path / "ops.db"
    store = OperationStore(path)
    ids = {_insert(store).id for _ in range(300)}
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(2) as pool:
        barrier = manager.Barrier(2)
        first = pool.apply_async(_claim_all, (str(path), "a", barrier))
        second = pool.apply_async(_claim_all, (str(path), "b", barrier))
        a, b = first.get(60), second.get(60)
    assert not set(a) & set(b)
    assert len(a) + len(b) == len(ids)
    assert set(a) | set(b) == ids
    running = {op.id for op in map(store.get, ids) if op.status == Status.RUNNING}
    assert running == ids


def test_finishing_is_guarded_by_the_claiming_worker(tmp_path):
    store = OperationStore(tmp_path / "ops.db")
    operation = _insert(store)
    (claimed,) = store.claim("dall-e-2", "w1")
    assert not store.succeed(claimed.id, "w2", {"created": 1, "data": []})
    assert store.succeed(claimed.id, "w1", {"created": 1, "data": [{"name": "0.png"}]})
    assert not store.fail(claimed.id, "w1", {"code": "x", "message": "y"})
    assert store.get(operation.id).status == Status.SUCCEEDED


def test_restart_requeues_running_and_gives_up_after_max_attempts(tmp_path):
    store = OperationStore(tmp_path / "ops.db")
    operation = _insert(store)
    for attempt in range(1, 4):
        (claimed,) = store.claim("dall-e-2", f"w{attempt}")
        assert claimed.id == operation.id
        requeued, failed = store.requeue_running(max_attempts=3)
        if attempt < 3:
            assert (requeued, failed) == (1, 0)
            assert store.get(operation.id).status == Status.NOT_RUNNING
    assert (requeued, failed) == (0, 1)
    final = store.get(operation.id)
    assert final.status == Status.FAILED
    assert "interrupted 3 times" in final.error["message"]


def test_only_finished_operations_expire_and_tombstones_keep_usage(tmp_path):
    store = OperationStore(tmp_path / "ops.db")
    now = int(time.time())
    queued = _insert(store, expires=now - 10)
    done = _insert(store, user="eve", n=3, expires=now - 10)
    store.claim("dall-e-2", "w", limit=10)
    store.succeed(done.id, "w", {"created": now, "data": [{"name": f"{i}.png"} for i in range(3)]})
    store.requeue_running(max_attempts=5)
    assert store.expired(now) == [done.id]
    assert store.mark_deleted(done.id)
    assert store.get(done.id).result is None
    assert store.get(queued.id).status == Status.NOT_RUNNING
    rows = {row["user"]: row for row in store.usage()}
    assert rows["eve"]["images_made"] == 3
    assert store.purge_deleted(before=now) == 1
    assert store.get(done.id) is None
