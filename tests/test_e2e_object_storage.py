"""End to end: `gouache serve --storage az://...` over a real Azurite, driven by the official
openai package; image links served in both modes, `stream` and `redirect`.

Azurite checks SAS signatures and expiry, so a redirect that worked here would work on Azure.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import openai
import pytest

from gouache.storage import from_url
from tests.conftest import png_size
from tests.object_servers import StorageServer, azurite, azurite_env, create_container
from tests.server import RunningServer, start_server

pytestmark = pytest.mark.e2e

KEY = "object-storage-e2e-key"


@pytest.fixture(scope="module")
def azurite_server(tmp_path_factory) -> Iterator[StorageServer]:
    with azurite(tmp_path_factory.mktemp("azurite")) as server:
        yield server


@pytest.fixture(scope="module", params=["stream", "redirect"])
def served(request, azurite_server, tmp_path_factory) -> Iterator[tuple[RunningServer, str, str]]:
    """A gouache server on its own container, in one link mode."""
    links = request.param
    container = f"e2e{uuid.uuid4().hex[:10]}"
    create_container(azurite_server, container)
    storage = f"az://{container}/gouache"
    env = {**azurite_env(azurite_server), "GOUACHE_API_KEYS": KEY, "GOUACHE_LINKS": links}
    tmp = tmp_path_factory.mktemp(f"serve-{links}")
    args = ["--engine", "instant", "--storage", storage]
    with start_server(tmp, env=env, args=args) as server:
        yield server, storage, links


def _stored_bytes(azurite_server: StorageServer, storage: str, url: str, monkeypatch) -> bytes:
    """The object as Azurite holds it, read around gouache: what the link must deliver."""
    for name, value in azurite_env(azurite_server).items():
        monkeypatch.setenv(name, value)
    store = from_url(storage, default_folder=Path("unused"))
    _, _, operation_id, name = urlsplit(url).path.split("/")
    return store.read(operation_id, name)


def test_images_live_in_the_object_store_and_links_deliver_them(
    served, azurite_server, monkeypatch
):
    server, storage, links = served
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEY, max_retries=0)
    result = client.images.generate(model="dall-e-2", prompt="a red shoe", n=2, size="256x256")
    assert len(result.data) == 2
    assert not list((server.data_dir / "images").rglob("*.png"))  # nothing on the local disk
    for image in result.data:
        stored = _stored_bytes(azurite_server, storage, image.url, monkeypatch)
        first = httpx.get(image.url, timeout=30)
        if links == "redirect":
            assert first.status_code == 302
            assert first.headers["cache-control"] == "no-store"
            location = first.headers["location"]
            assert location.startswith(azurite_server.url)
            assert "sig=" in location and "se=" in location
            downloaded = httpx.get(location, timeout=30)
        else:
            downloaded = first
        assert downloaded.status_code == 200
        assert downloaded.headers["content-type"] == "image/png"
        assert downloaded.content == stored
        assert png_size(downloaded.content) == (256, 256)


def test_gouache_checks_its_own_signature_before_any_redirect(served):
    server, _, _ = served
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEY, max_retries=0)
    url = client.images.generate(model="dall-e-2", prompt="a kite", size="256x256").data[0].url
    parts = urlsplit(url)
    query = dict(pair.split("=", 1) for pair in parts.query.split("&"))
    longer = f"{server.url}{parts.path}?se={int(query['se']) + 3600}&sig={query['sig']}"
    denied = httpx.get(longer, timeout=30)
    assert denied.status_code == 403
    assert "location" not in denied.headers
    assert denied.json()["error"]["code"] == "AuthenticationFailed"


def test_a_deleted_operation_s_links_are_404_and_its_objects_gone(
    served, azurite_server, monkeypatch
):
    server, storage, _ = served
    headers = {"api-key": KEY}
    submit = httpx.post(
        f"{server.url}/openai/images/generations:submit?api-version=2023-06-01-preview",
        json={"prompt": "a lighthouse", "size": "256x256"},
        headers=headers,
        timeout=30,
    )
    location = submit.headers["operation-location"]
    deadline = time.monotonic() + 60
    while (operation := httpx.get(location, headers=headers, timeout=30).json())[
        "status"
    ] != "succeeded":
        assert time.monotonic() < deadline, operation
        time.sleep(0.05)
    url = operation["result"]["data"][0]["url"]
    assert _stored_bytes(azurite_server, storage, url, monkeypatch)
    assert httpx.delete(location, headers=headers, timeout=30).status_code == 204
    gone = httpx.get(url, timeout=30)
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "BlobNotFound"
    with pytest.raises(FileNotFoundError):
        _stored_bytes(azurite_server, storage, url, monkeypatch)


@pytest.fixture(scope="module")
def drawing_on_objects(azurite_server, tmp_path_factory) -> Iterator[tuple[RunningServer, str]]:
    """A server with the built-in engine (which edits and makes previews) over object storage."""
    container = f"edits{uuid.uuid4().hex[:10]}"
    create_container(azurite_server, container)
    storage = f"az://{container}/gouache"
    env = {**azurite_env(azurite_server), "GOUACHE_API_KEYS": KEY}
    with start_server(
        tmp_path_factory.mktemp("serve-edits"), env=env, args=["--storage", storage]
    ) as server:
        yield server, storage


def test_edit_inputs_and_previews_live_beside_the_images_in_the_object_store(
    drawing_on_objects, azurite_server, monkeypatch
):
    import io

    from PIL import Image

    server, storage = drawing_on_objects
    buffer = io.BytesIO()
    Image.new("RGBA", (256, 256), (200, 40, 40, 255)).save(buffer, "PNG")
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEY, max_retries=0)
    result = client.images.edit(
        model="dall-e-2",
        image=("a.png", buffer.getvalue(), "image/png"),
        prompt="a blue ball",
        size="256x256",
    )
    (image,) = result.data
    for name, value in azurite_env(azurite_server).items():
        monkeypatch.setenv(name, value)
    store = from_url(storage, default_folder=Path("unused"))
    _, _, operation_id, name = urlsplit(image.url).path.split("/")
    assert store.read(operation_id, "input-0.png") == buffer.getvalue()
    assert png_size(httpx.get(image.url, timeout=30).content) == (256, 256)
    events = list(
        client.images.generate(
            model="gpt-image-1", prompt="a lamp", stream=True, partial_images=1, quality="low"
        )
    )
    assert [event.type for event in events] == [
        "image_generation.partial_image",
        "image_generation.completed",
    ]
    assert all(event.b64_json for event in events)
    store.delete(operation_id)
    assert operation_id not in store.operation_ids()
