"""The cache of finished operations: polls served from memory, never after a deletion, on any node.

Two API apps on one PostgreSQL database stand for two nodes: a DELETE on one must reach the
other's cache through NOTIFY. The cache's own rules (reads in flight, expiry) are checked directly.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from gouache.jobs.cache import FinishedCache
from gouache.jobs.states import Status
from gouache.jobs.store import Operation
from tests.conftest import ASYNC, make_client

VERSION = "?api-version=2023-06-01-preview"


def _operation(status: Status = Status.SUCCEEDED, expires_in: int = 100) -> Operation:
    now = int(time.time())
    return Operation(
        id=str(uuid.uuid4()),
        deployment="dall-e-2",
        status=status,
        created=now,
        created_at=now,
        expires=now + expires_in,
        user=None,
        n=1,
        size="256x256",
        prompt="p",
        params={},
        result={"created": now, "data": []},
        error=None,
        attempts=1,
    )


def test_only_finished_unexpired_operations_are_served_from_memory():
    cache = FinishedCache()
    done, running, expired = (
        _operation(),
        _operation(Status.RUNNING),
        _operation(expires_in=-1),
    )
    for operation in (done, running, expired):
        cache.put(operation, time.monotonic())
    assert cache.get(done.id) == done
    assert cache.get(running.id) is None
    assert cache.get(expired.id) is None


def test_a_read_that_began_before_a_deletion_is_not_cached():
    cache = FinishedCache()
    operation = _operation()
    began = time.monotonic()
    cache.invalidate(operation.id)  # a DELETE lands while the read is in flight
    cache.put(operation, began)
    assert cache.get(operation.id) is None
    cache.put(operation, time.monotonic())
    assert cache.get(operation.id) == operation
    began = time.monotonic()
    cache.clear()  # notifications may have been lost: forget everything, refuse reads in flight
    cache.put(operation, began)
    assert cache.get(operation.id) is None
    assert len(cache) == 0


def test_the_cache_is_bounded():
    cache = FinishedCache(entries=3)
    operations = [_operation() for _ in range(5)]
    for operation in operations:
        cache.put(operation, time.monotonic())
    assert len(cache) == 3
    assert cache.get(operations[0].id) is None
    assert cache.get(operations[-1].id) == operations[-1]


def _finish(client, location: str) -> dict:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        body = client.get(location).json()
        if body["status"] in ("succeeded", "failed"):
            return body
        time.sleep(0.02)
    raise AssertionError("operation did not finish")


def test_a_delete_on_one_node_reaches_the_other_nodes_cache(tmp_path: Path, postgres_url: str):
    with (
        make_client(tmp_path / "a", database=postgres_url) as node_a,
        make_client(tmp_path / "b", database=postgres_url, no_workers=True) as node_b,
    ):
        location = node_b.post(ASYNC, json={"prompt": "kite", "size": "256x256"}).headers[
            "operation-location"
        ]
        path = location.removeprefix("http://testserver")
        assert _finish(node_b, path)["status"] == "succeeded"  # run by node a's workers
        service_b = node_b.app.state.ctx.service
        operation_id = path.split("/")[-1].split("?")[0]
        assert service_b.cache is not None and service_b.cache.get(operation_id) is not None
        assert node_a.delete(path).status_code == 204
        deadline = time.monotonic() + 30
        while node_b.get(path).json()["status"] == "succeeded" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert node_b.get(path).json()["status"] == "deleted"
        assert service_b.cache.get(operation_id) is None


def test_a_one_machine_server_serves_polls_from_memory_and_forgets_deletions(tmp_path: Path):
    with make_client(tmp_path) as client:
        location = client.post(ASYNC, json={"prompt": "kite", "size": "256x256"}).headers[
            "operation-location"
        ]
        path = location.removeprefix("http://testserver")
        assert _finish(client, path)["status"] == "succeeded"
        service = client.app.state.ctx.service
        operation_id = path.split("/")[-1].split("?")[0]
        assert service.cache.get(operation_id) is not None
        assert client.delete(path).status_code == 204
        assert service.cache.get(operation_id) is None
        assert client.get(path).json()["status"] == "deleted"


def test_no_cache_where_deletions_by_other_processes_would_not_reach_it(tmp_path: Path):
    """Several processes on one explicit SQLite file have no notifications: no cache."""
    with make_client(tmp_path, database=f"sqlite:///{tmp_path / 'shared.db'}") as client:
        assert client.app.state.ctx.service.cache is None
