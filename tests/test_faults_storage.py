"""A full or read-only image folder (real tmpfs mounts): workers back off and recover, nothing
accepted is lost, DELETE never claims success while images stay readable, no partial files, and
no error leaks a server path."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

from gouache.jobs.store import OperationStore
from tests.conftest import ASYNC, instant, make_client
from tests.faults import fill, tmpfs
from tests.test_faults_database import _poll_until, _readyz_until

SMALL = {"prompt": "a kite", "size": "256x256"}


def _leftovers(root: Path) -> list[str]:
    return [str(p.relative_to(root)) for p in root.rglob("*") if p.name.endswith(".tmp")]


def test_read_only_images_folder(tmp_path: Path):
    images = tmp_path / "images"
    with tmpfs(images) as mount, make_client(tmp_path) as client:
        kept = client.post(ASYNC, json=SMALL).headers["operation-location"]
        done = _poll_until(client, kept, {"succeeded"})
        url = done["result"]["data"][0]["url"]
        assert client.get(url).status_code == 200

        mount.read_only()
        deleting = client.delete(kept)
        assert deleting.status_code == 503, deleting.text
        error = deleting.json()["error"]
        assert error["code"] == "storageUnavailable"
        assert str(tmp_path) not in error["message"]
        assert client.get(url).status_code == 200  # still readable, so not reported deleted
        assert client.get(kept).json()["status"] == "succeeded"

        waiting = client.post(ASYNC, json=SMALL).headers["operation-location"]
        degraded = _readyz_until(client, "degraded")
        reason = degraded["faults"]["dall-e-2"]["reason"]
        assert "read-only" in reason and "engine" not in reason
        assert str(tmp_path) not in reason
        sync = client.post("/v1/images/generations", json=SMALL)
        assert sync.status_code == 503
        assert int(sync.headers["retry-after"]) >= 1
        assert client.get(waiting).json()["status"] in ("notRunning", "running")

        mount.writable()
        assert _poll_until(client, waiting, {"succeeded", "failed"})["status"] == "succeeded"
        _readyz_until(client, "ready")
        assert client.delete(kept).status_code == 204
        assert client.get(url).status_code in (403, 404)
        assert not (images / done["id"]).exists()
        assert _leftovers(images) == []


def test_full_disk_then_space_comes_back(tmp_path: Path):
    data = tmp_path / "data"
    deployments = {"dall-e-2": instant("dall-e-2", delay_s=0.2)}
    with tmpfs(data, size="3m"), make_client(data, deployments=deployments) as client:
        accepted = [
            client.post(ASYNC, json={"prompt": f"kite {i}", "size": "1024x1024"}).headers[
                "operation-location"
            ]
            for i in range(8)
        ]
        filler = fill(data)
        statuses: list[int] = []
        for index in range(20):
            response = client.post(ASYNC, json={"prompt": f"boat {index}", "size": "1024x1024"})
            statuses.append(response.status_code)
            if response.status_code == 202:
                accepted.append(response.headers["operation-location"])
            else:
                assert response.json()["error"]["code"] in ("storeUnavailable", "429")
                assert int(response.headers["retry-after"]) >= 1
        assert 500 not in statuses
        reason = _readyz_until(client, "degraded")["faults"]["dall-e-2"]["reason"]
        assert "full" in reason
        assert str(tmp_path) not in reason
        assert all(client.get(loc).json()["status"] != "failed" for loc in accepted)
        filler.unlink()
        for location in accepted:
            assert _poll_until(client, location, {"succeeded", "failed"})["status"] == "succeeded"
        _readyz_until(client, "ready")
        fresh = client.post(ASYNC, json=SMALL)
        assert fresh.status_code == 202
        assert _poll_until(client, fresh.headers["operation-location"], {"succeeded"})
        assert _leftovers(data) == []


def test_an_operation_fails_cleanly_when_its_last_attempt_cannot_be_stored(tmp_path: Path):
    """Bounded retries: an operation on its last attempt (two crashes behind it) fails with
    storageUnavailable, naming the cause and no path, instead of 'The engine failed'."""
    store = OperationStore(tmp_path / "gouache.db")
    now = int(time.time())
    store.insert(
        id=(operation_id := str(uuid.uuid4())),
        deployment="dall-e-2",
        created=now,
        expires=now + 3600,
        user=None,
        n=1,
        size="256x256",
        prompt="a kite",
        params={"prompt": "a kite", "n": 1, "size": "256x256", "seed": 1},
    )
    for crash in range(2):
        assert store.claim("dall-e-2", f"crashed-{crash}")
        assert store.lapse_leases([f"crashed-{crash}"]) == 1  # its worker died
    store.close()
    images = tmp_path / "images"
    with tmpfs(images) as mount:
        mount.read_only()  # before the workers start, so the first attempt already fails
        with make_client(tmp_path) as client:
            location = f"/openai/operations/images/{operation_id}?api-version=2023-06-01-preview"
            body = _poll_until(client, location, {"succeeded", "failed"})
            assert body["status"] == "failed"
            assert body["error"]["code"] == "storageUnavailable"
            assert "read-only" in body["error"]["message"]
            assert str(tmp_path) not in body["error"]["message"]
            assert "engine" not in body["error"]["message"]


def test_a_waiting_synchronous_request_gets_503_when_storage_fails(tmp_path: Path):
    """A synchronous request already waiting when the fault starts is answered 503 at once, and
    its operation, not yet started, is withdrawn so that the client's retry does not run twice."""
    images = tmp_path / "images"
    deployments = {"dall-e-2": instant("dall-e-2", delay_s=1.0)}
    with tmpfs(images) as mount, make_client(tmp_path, deployments=deployments) as client:
        store = client.app.state.ctx.service.store
        first = client.post(ASYNC, json=SMALL).headers["operation-location"]
        _poll_until(client, first, {"running"})
        answers: list = []
        waiter = threading.Thread(
            target=lambda: answers.append(client.post("/v1/images/generations", json=SMALL))
        )
        waiter.start()
        deadline = time.monotonic() + 30
        while store.count_unfinished() < 2:  # the synchronous request's operation is queued
            assert time.monotonic() < deadline
            time.sleep(0.01)
        mount.read_only()  # the running operation's images cannot be saved
        waiter.join(60)
        (answer,) = answers
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"]["code"] == "deploymentUnavailable"
        assert "withdrawn" in answer.json()["error"]["message"]
        assert int(answer.headers["retry-after"]) >= 1
        assert store.count_unfinished_by_status() == {"notRunning": 1, "running": 0}
        mount.writable()
        assert _poll_until(client, first, {"succeeded", "failed"})["status"] == "succeeded"
