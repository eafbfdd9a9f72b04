"""End to end: `GET /openai/operations/images/{id}/events` on a real server, read as a client
reads it, over plain HTTP, while a slow engine renders previews."""

from __future__ import annotations

import io
import json

import httpx
import pytest
from PIL import Image

from tests.server import start_server

pytestmark = pytest.mark.e2e

KEY = "events-key"
VERSION = "api-version=2023-06-01-preview"
CONFIG = """
[deployments.slow]
profile = "dall-e-2"
engine = "tests.engines_for_tests:SlowPreviewEngine"
[deployments.slow.options]
step_s = 0.4
[deployments.plain]
profile = "dall-e-2"
engine = "instant"
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("events")
    with start_server(tmp, config=CONFIG, env={"GOUACHE_API_KEYS": KEY}) as running:
        yield running


def submit(server, **body) -> str:
    response = httpx.post(
        f"{server.url}/openai/images/generations:submit?{VERSION}",
        headers={"api-key": KEY},
        json={"prompt": "a lamp", "size": "256x256", **body},
    )
    assert response.status_code == 202, response.text
    return response.json()["id"]


def read_events(server, operation_id: str) -> list[tuple[str, dict]]:
    found: list[tuple[str, dict]] = []
    url = f"{server.url}/openai/operations/images/{operation_id}/events?{VERSION}"
    with httpx.stream("GET", url, headers={"api-key": KEY}, timeout=30) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        name = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line[len("event: ") :]
            elif line.startswith("data: "):
                found.append((name, json.loads(line[len("data: ") :])))
    return found


def test_status_changes_progress_and_preview_links_then_the_operation(server):
    operation_id = submit(server, model="slow", n=2, partial_images=2)
    found = read_events(server, operation_id)
    names = [name for name, _ in found]
    statuses = [data["status"] for name, data in found if name == "status"]
    assert statuses[-2:] == ["running", "succeeded"]
    assert names[-1] == "operation"
    previews = [data for name, data in found if name == "preview"]
    assert sorted((p["image_index"], p["partial_image_index"]) for p in previews) == [
        (0, 0),
        (0, 1),
        (1, 0),
        (1, 1),
    ]
    progress = [data["progress"] for name, data in found if name == "status"]
    assert progress[-1] == 1.0 and all(0 <= value <= 1 for value in progress)
    for preview in previews:
        assert 0 < preview["progress"] < 1
        image = Image.open(io.BytesIO(httpx.get(preview["url"]).content))
        assert (image.format, image.size) == ("PNG", (256, 256))
    # the last event is Azure's operation object, exactly as GET returns it
    operation = found[-1][1]
    polled = httpx.get(
        f"{server.url}/openai/operations/images/{operation_id}?{VERSION}", headers={"api-key": KEY}
    ).json()
    assert set(operation) == set(polled) == {"id", "created", "expires", "status", "result"}
    assert len(operation["result"]["data"]) == 2


def test_operation_without_previews_and_a_finished_one(server):
    operation_id = submit(server, model="plain")
    found = read_events(server, operation_id)
    assert [name for name, _ in found][-2:] == ["status", "operation"]
    assert not [name for name, _ in found if name == "preview"]
    again = read_events(server, operation_id)
    assert [name for name, _ in again] == ["status", "operation"]


def test_refusals(server):
    url = f"{server.url}/openai/operations/images/{{}}/events?{VERSION}"
    operation_id = submit(server, model="plain")
    assert httpx.get(url.format(operation_id)).status_code == 401
    other = httpx.get(url.format("0b9a1b9c-0000-4000-8000-000000000000"), headers={"api-key": KEY})
    assert other.status_code == 404
    response = httpx.post(
        f"{server.url}/openai/images/generations:submit?{VERSION}",
        headers={"api-key": KEY},
        json={"prompt": "x", "model": "plain", "partial_images": 2},
    )
    assert response.status_code == 400
    assert "makes none" in response.json()["error"]["message"]
