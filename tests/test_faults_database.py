"""A database write lock held by another connection (a real second SQLite connection in
`BEGIN IMMEDIATE`, or on PostgreSQL a session holding `LOCK TABLE operations IN EXCLUSIVE MODE`):
the event loop keeps answering, workers survive and resume, and requests that need the lock get a
503 with retry-after instead of a 500 or a hang."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx

from tests.conftest import ASYNC, instant, make_client
from tests.faults import held_write_lock, write_lock


def _poll_until(client, location: str, statuses: set[str], timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(location).json()
        if body["status"] in statuses:
            return body
        time.sleep(0.05)
    raise AssertionError(f"{location} did not reach {statuses}: {body}")


def _readyz_until(client, status: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get("/readyz").json()
        if body["status"] == status:
            return body
        time.sleep(0.05)
    raise AssertionError(f"/readyz never said {status!r}; last: {body}")


def test_health_and_polls_answer_before_the_lock_is_released(tmp_path: Path, database_url: str):
    with make_client(tmp_path, store_busy_timeout_s=3, database=database_url) as client:
        finished = client.post(ASYNC, json={"prompt": "a kite", "size": "256x256"})
        location = finished.headers["operation-location"]
        _poll_until(client, location, {"succeeded"})
        order: list[tuple[str, int]] = []

        def submit() -> None:
            response = client.post(ASYNC, json={"prompt": "a boat", "size": "256x256"})
            order.append(("submit", response.status_code))

        with held_write_lock(database_url):
            writer = threading.Thread(target=submit)
            writer.start()
            time.sleep(0.5)  # sequencing only: let the submit reach the database first
            order.append(("healthz", client.get("/healthz").status_code))
            order.append(("poll", client.get(location).status_code))
            writer.join()
            # the lock is still held here: the submit gave up on it, the others never needed it
        assert order == [("healthz", 200), ("poll", 200), ("submit", 503)]


def test_submit_while_locked_is_503_with_retry_after_in_the_contract_shape(
    tmp_path: Path, database_url: str
):
    with make_client(tmp_path, store_busy_timeout_s=0.5, database=database_url) as client:
        with held_write_lock(database_url):
            azure = client.post(ASYNC, json={"prompt": "a boat", "size": "256x256"})
            openai = client.post(
                "/v1/images/generations", json={"prompt": "a boat", "size": "256x256"}
            )
        for response in (azure, openai):
            assert response.status_code == 503, response.text
            assert int(response.headers["retry-after"]) >= 1
            error = response.json()["error"]
            assert error["code"] == "storeUnavailable"
            assert "locked" in error["message"]
            assert str(tmp_path) not in error["message"]
            assert "postgres" not in error["message"]
        assert client.post(ASYNC, json={"prompt": "a boat", "size": "256x256"}).status_code == 202


def test_workers_survive_a_held_lock_and_finish_everything_after(tmp_path: Path, database_url: str):
    deployments = {"dall-e-2": instant("dall-e-2", delay_s=0.05)}
    with make_client(
        tmp_path, deployments=deployments, store_busy_timeout_s=0.3, database=database_url
    ) as client:
        locations = [
            client.post(ASYNC, json={"prompt": f"kite {i}", "size": "256x256"}).headers[
                "operation-location"
            ]
            for i in range(10)
        ]
        with held_write_lock(database_url):
            degraded = _readyz_until(client, "degraded")
            reason = degraded["faults"]["dall-e-2"]["reason"]
            assert "locked" in reason
            assert str(tmp_path) not in reason
            # a synchronous request is refused at once rather than left waiting
            sync = client.post("/v1/images/generations", json={"prompt": "x", "size": "256x256"})
            assert sync.status_code == 503
            assert int(sync.headers["retry-after"]) >= 1
            assert client.get("/healthz").status_code == 200
        for location in locations:
            assert _poll_until(client, location, {"succeeded", "failed"})["status"] == "succeeded"
        _readyz_until(client, "ready")
        workers = [t for t in threading.enumerate() if t.name.startswith("gouache-worker-dall-e-2")]
        assert workers and all(t.is_alive() for t in workers)
        again = client.post("/v1/images/generations", json={"prompt": "x", "size": "256x256"})
        assert again.status_code == 200, again.text


def test_a_real_server_keeps_answering_while_its_database_is_locked(tmp_path: Path):
    """The same through a real `gouache serve` process and real HTTP."""
    from tests.server import start_server

    data_dir = tmp_path / "data"
    env = {"GOUACHE_STORE_BUSY_TIMEOUT_S": "2"}
    with start_server(tmp_path, data_dir=data_dir, env=env) as server:
        first = httpx.post(server.url + ASYNC, json={"prompt": "a kite", "size": "256x256"})
        location = first.headers["operation-location"]
        deadline = time.monotonic() + 30
        while httpx.get(location).json()["status"] != "succeeded":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        order: list[tuple[str, int]] = []

        def submit() -> None:
            response = httpx.post(
                server.url + ASYNC, json={"prompt": "a boat", "size": "256x256"}, timeout=60
            )
            order.append(("submit", response.status_code))

        with write_lock(data_dir / "gouache.db"):
            writer = threading.Thread(target=submit)
            writer.start()
            time.sleep(0.5)  # sequencing only
            order.append(("healthz", httpx.get(server.url + "/healthz", timeout=60).status_code))
            order.append(("poll", httpx.get(location, timeout=60).status_code))
            writer.join()
        assert order == [("healthz", 200), ("poll", 200), ("submit", 503)]
