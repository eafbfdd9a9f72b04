"""The Azure submit/poll operation API, in-process over a real SQLite file."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit

from tests.conftest import ASYNC, instant, make_client, png_size


def _poll(client, location: str, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(location)
        assert response.status_code == 200, response.text
        body = response.json()
        if body["status"] in ("succeeded", "failed"):
            return body
        assert response.headers["retry-after"].isdigit()
        time.sleep(0.02)
    raise AssertionError("operation did not finish")


def test_submit_returns_202_with_absolute_operation_location(client):
    response = client.post(ASYNC, json={"prompt": "a red shoe", "n": 2, "size": "256x256"})
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "notRunning"
    assert isinstance(body["created"], int)
    location = response.headers["operation-location"]
    assert location == (
        f"http://testserver/openai/operations/images/{body['id']}?api-version=2023-06-01-preview"
    )
    assert int(response.headers["retry-after"]) >= 1


def test_poll_until_succeeded_and_download_every_image(client):
    response = client.post(ASYNC, json={"prompt": "a red shoe", "n": 3, "size": "512x512"})
    operation = _poll(client, response.headers["operation-location"])
    assert operation["status"] == "succeeded"
    assert operation["expires"] - operation["created"] == 86400
    assert set(operation) == {"id", "created", "expires", "status", "result"}
    urls = [item["url"] for item in operation["result"]["data"]]
    assert len(urls) == 3
    for url in urls:
        image = client.get(url)
        assert image.status_code == 200
        assert image.headers["content-type"] == "image/png"
        assert png_size(image.content) == (512, 512)


def test_defaults_are_one_image_of_1024(client):
    response = client.post(ASYNC, json={"prompt": "a lighthouse"})
    operation = _poll(client, response.headers["operation-location"])
    (item,) = operation["result"]["data"]
    assert png_size(client.get(item["url"]).content) == (1024, 1024)


def test_b64_json_response_format(client):
    import base64

    response = client.post(
        ASYNC, json={"prompt": "a cat", "size": "256x256", "response_format": "b64_json"}
    )
    operation = _poll(client, response.headers["operation-location"])
    (item,) = operation["result"]["data"]
    assert png_size(base64.b64decode(item["b64_json"])) == (256, 256)


def test_unknown_operation_is_404_in_error_shape(client):
    response = client.get(
        "/openai/operations/images/00000000-0000-4000-8000-000000000000?api-version=2023-06-01-preview"
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "notFound"
    response = client.get("/openai/operations/images/not-a-uuid?api-version=2023-06-01-preview")
    assert response.status_code == 404


def test_delete_finished_operation_removes_images_at_once(client):
    response = client.post(ASYNC, json={"prompt": "a tree", "size": "256x256"})
    location = response.headers["operation-location"]
    operation = _poll(client, location)
    url = operation["result"]["data"][0]["url"]
    assert client.get(url).status_code == 200
    assert client.delete(location).status_code == 204
    assert client.get(url).status_code == 404
    after = client.get(location).json()
    assert after["status"] == "deleted"
    assert "result" not in after
    again = client.delete(location)
    assert again.status_code == 404


def test_delete_while_running_is_a_409_conflict(tmp_path: Path):
    deployments = {"dall-e-2": instant("dall-e-2", delay_s=1.0)}
    with make_client(tmp_path, deployments=deployments) as client:
        response = client.post(ASYNC, json={"prompt": "slow", "size": "256x256"})
        location = response.headers["operation-location"]
        refused = client.delete(location)
        assert refused.status_code == 409
        error = refused.json()["error"]
        assert error["code"] == "unexpectedEntityState"
        assert "once it has finished" in error["message"]
        assert _poll(client, location)["status"] == "succeeded"
        assert client.delete(location).status_code == 204


def test_tampered_missing_and_expired_links_get_403_and_no_bytes(tmp_path: Path):
    with make_client(tmp_path, link_ttl_s=1) as client:
        response = client.post(ASYNC, json={"prompt": "a boat", "size": "256x256"})
        operation = _poll(client, response.headers["operation-location"])
        url = operation["result"]["data"][0]["url"]
        parts = urlsplit(url)
        assert client.get(url).status_code == 200
        assert client.get(parts.path).status_code == 403
        query = dict(pair.split("=", 1) for pair in parts.query.split("&"))
        longer = f"{parts.path}?se={int(query['se']) + 3600}&sig={query['sig']}"
        assert client.get(longer).status_code == 403
        other = parts.path.replace("0.png", "1.png")
        assert client.get(f"{other}?{parts.query}").status_code == 403
        forged = f"{parts.path}?se={query['se']}&sig={'A' * len(query['sig'])}"
        denied = client.get(forged)
        assert denied.status_code == 403
        assert denied.headers["content-type"].startswith("application/json")
        assert "signature" in denied.json()["error"]["message"]
        time.sleep(2.1)
        expired = client.get(url)
        assert expired.status_code == 403
        assert "expired" in expired.json()["error"]["message"]


def test_link_paths_outside_the_store_are_never_served(client):
    response = client.post(ASYNC, json={"prompt": "a boat", "size": "256x256"})
    _poll(client, response.headers["operation-location"])
    for path in (
        "/images/..%2F..%2Fgouache.db/x.png?se=9999999999&sig=x",
        "/images/../link-secret.key?se=9999999999&sig=x",
        "/images/%2e%2e/link-secret.key?se=9999999999&sig=x",
    ):
        result = client.get(path)
        assert result.status_code in (403, 404)
        assert b"\x00" not in result.content[:64]
        assert result.headers["content-type"].startswith("application/json")


def test_sweep_removes_expired_operations_and_their_images(tmp_path: Path):
    with make_client(tmp_path) as client:
        response = client.post(ASYNC, json={"prompt": "a dune", "size": "256x256"})
        location = response.headers["operation-location"]
        operation = _poll(client, location)
        image_dir = tmp_path / "images" / operation["id"]
        assert image_dir.is_dir()
        service = client.app.state.ctx.service
        assert service.sweep(now=operation["expires"] - 1) == 0
        assert service.sweep(now=operation["expires"]) == 1
        assert not image_dir.exists()
        gone = client.get(location).json()
        assert gone["status"] == "deleted"
        assert client.get(operation["result"]["data"][0]["url"]).status_code in (403, 404)


def test_queue_full_gives_429_with_retry_after_and_stays_responsive(tmp_path: Path):
    deployments = {"dall-e-2": instant("dall-e-2", delay_s=1.5)}
    with make_client(tmp_path, deployments=deployments, queue_max=2, retry_after_s=3) as client:
        first = client.post(ASYNC, json={"prompt": "one", "size": "256x256"})
        second = client.post(ASYNC, json={"prompt": "two", "size": "256x256"})
        assert first.status_code == second.status_code == 202
        busy = client.post(ASYNC, json={"prompt": "three", "size": "256x256"})
        assert busy.status_code == 429
        assert busy.headers["retry-after"] == "3"
        error = busy.json()["error"]
        assert error["code"] == "429"
        assert "retry after 3 seconds" in error["message"]
        assert client.get("/healthz").status_code == 200
        assert client.get(first.headers["operation-location"]).status_code == 200
        _poll(client, second.headers["operation-location"])
        assert client.post(ASYNC, json={"prompt": "four", "size": "256x256"}).status_code == 202


def test_user_is_recorded_for_usage(client):
    for user, n in (("alice", 2), ("alice", 1), ("bob", 3)):
        response = client.post(ASYNC, json={"prompt": "x", "n": n, "size": "256x256", "user": user})
        _poll(client, response.headers["operation-location"])
    rows = {row["user"]: row for row in client.app.state.ctx.service.store.usage()}
    assert rows["alice"]["operations"] == 2
    assert rows["alice"]["images_made"] == 3
    assert rows["bob"]["images_made"] == 3
