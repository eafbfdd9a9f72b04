"""The operation store on a real SQLite file and a real PostgreSQL database: claiming, leases,
guarded finishing, expiry, usage, and the cluster-wide sweeper lease."""

from __future__ import annotations

import multiprocessing
import threading
import time
import uuid

import pytest

from gouache.jobs.states import Status
from gouache.jobs.store import OperationStore
from tests.postgres import libpq_url


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


def _lapse(store: OperationStore) -> None:
    """Let every lease of a store with a tiny `lease_s` run out (a pause, not a measurement)."""
    threading.Event().wait(store.lease_s * 2)


@pytest.fixture
def store(database_url: str):
    store = OperationStore(database_url)
    yield store
    store.close()


def _claim_all(url: str, name: str, barrier) -> list[str]:
    store = OperationStore(url)
    barrier.wait()
    claimed: list[str] = []
    while batch := store.claim("dall-e-2", name, limit=2):
        claimed.extend(op.id for op in batch)
    store.close()
    return claimed


def test_two_processes_on_one_database_never_claim_the_same_operation(database_url, store):
    ids = {_insert(store).id for _ in range(300)}
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(2) as pool:
        barrier = manager.Barrier(2)
        first = pool.apply_async(_claim_all, (database_url, "a", barrier))
        second = pool.apply_async(_claim_all, (database_url, "b", barrier))
        a, b = first.get(120), second.get(120)
    assert not set(a) & set(b)
    assert len(a) + len(b) == len(ids)
    assert set(a) | set(b) == ids
    operations = [store.get(i) for i in ids]
    assert {op.status for op in operations} == {Status.RUNNING}
    assert {op.attempts for op in operations} == {1}


def test_finishing_is_guarded_by_the_claiming_worker_and_attempt(store):
    operation = _insert(store)
    (claimed,) = store.claim("dall-e-2", "w1")
    assert (claimed.attempts, claimed.status) == (1, Status.RUNNING)
    assert not store.succeed(claimed.id, "w2", {"created": 1, "data": []}, attempt=1)
    assert not store.succeed(claimed.id, "w1", {"created": 1, "data": []}, attempt=2)
    result = {"created": 1, "data": [{"name": "0.png"}]}
    assert store.succeed(claimed.id, "w1", result, attempt=1)
    assert not store.fail(claimed.id, "w1", {"code": "x", "message": "y"}, attempt=1)
    done = store.get(operation.id)
    assert done.status == Status.SUCCEEDED and done.result == result


def test_a_renewed_lease_holds_and_a_lapsed_one_is_claimed_again(database_url):
    store = OperationStore(database_url, lease_s=0.2)
    try:
        operation = _insert(store)
        (first,) = store.claim("dall-e-2", "w1")
        for _ in range(3):  # heartbeats keep it: nobody else may take it
            threading.Event().wait(0.1)
            assert store.renew([(first.id, first.attempts)], "w1") == {first.id}
            assert store.claim("dall-e-2", "w2") == []
        _lapse(store)  # w1 stops renewing, as a killed worker does
        (second,) = store.claim("dall-e-2", "w2")
        assert (second.id, second.attempts) == (operation.id, 2)
        # the old owner has lost it: its heartbeat, its result and its release all do nothing
        assert store.renew([(first.id, first.attempts)], "w1") == set()
        assert not store.succeed(first.id, "w1", {"created": 1, "data": [{"name": "0.png"}]})
        assert not store.release(first.id, "w1", attempt=1)
        result = {"created": 2, "data": [{"name": "2-0.png"}]}
        assert store.succeed(second.id, "w2", result, attempt=2)
        assert store.get(operation.id).result == result
    finally:
        store.close()


def test_an_operation_whose_leases_keep_lapsing_fails_with_a_clear_error(database_url):
    store = OperationStore(database_url, lease_s=0.05, max_attempts=3)
    try:
        operation = _insert(store)
        finished: list[str] = []
        store.finished_hook = finished.append
        for attempt in range(1, 4):
            (claimed,) = store.claim("dall-e-2", f"w{attempt}")
            assert claimed.attempts == attempt
            _lapse(store)
        assert store.claim("dall-e-2", "w4") == []
        final = store.get(operation.id)
        assert final.status == Status.FAILED
        assert final.error["code"] == "internalFailure"
        assert "interrupted 3 times" in final.error["message"]
        assert "Submit it again" in final.error["message"]
        assert finished == [operation.id]
    finally:
        store.close()


def test_lapse_leases_frees_a_dead_workers_operations_at_once(store):
    operation = _insert(store)
    other = _insert(store)
    store.claim("dall-e-2", "dead", limit=1)
    store.claim("dall-e-2", "alive", limit=1)
    assert sorted(store.running_workers()) == ["alive", "dead"]
    assert store.lapse_leases(["dead"]) == 1
    (again,) = store.claim("dall-e-2", "new")
    assert (again.id, again.attempts) == (operation.id, 2)
    assert store.get(other.id).status == Status.RUNNING


def test_only_finished_operations_expire_and_tombstones_keep_usage(store):
    now = int(time.time())
    queued = _insert(store, expires=now - 10)
    done = _insert(store, user="eve", n=3, expires=now - 10)
    store.claim("dall-e-2", "w", limit=1)
    (claimed,) = store.claim("dall-e-2", "w", limit=10)
    assert claimed.id == done.id
    data = [{"name": f"{i}.png"} for i in range(3)]
    store.succeed(done.id, "w", {"created": now, "data": data}, attempt=1)
    assert store.expired(now) == [done.id]
    assert store.mark_deleted(done.id)
    assert store.get(done.id).result is None
    assert store.get(queued.id).status == Status.RUNNING
    rows = {row["user"]: row for row in store.usage()}
    assert rows["eve"]["images_made"] == 3
    assert store.purge_deleted(before=now) == 1
    assert store.get(done.id) is None


def test_one_node_at_a_time_holds_a_named_lease(store):
    assert store.hold_lease("sweeper", "node-a", 0.2)
    assert store.hold_lease("sweeper", "node-a", 0.2)  # renewing its own
    assert not store.hold_lease("sweeper", "node-b", 0.2)
    threading.Event().wait(0.4)  # node-a stops renewing
    assert store.hold_lease("sweeper", "node-b", 0.2)
    assert not store.hold_lease("sweeper", "node-a", 0.2)


def test_postgres_claim_skips_rows_another_transaction_has_locked(postgres_url):
    """A real row lock held by another connection (a slow claim elsewhere): the claim takes the
    next operation instead of waiting for it, which is what SKIP LOCKED is for."""
    import psycopg

    store = OperationStore(postgres_url)
    try:
        first = _insert(store)
        second = _insert(store)
        with psycopg.connect(libpq_url(postgres_url)) as other:
            other.execute("SELECT id FROM operations WHERE id = %s FOR UPDATE", (first.id,))
            (claimed,) = store.claim("dall-e-2", "w")
            assert claimed.id == second.id
            other.rollback()
        (claimed,) = store.claim("dall-e-2", "w")
        assert claimed.id == first.id
    finally:
        store.close()
