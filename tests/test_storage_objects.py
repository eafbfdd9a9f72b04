"""The object-storage image store against real servers: Azurite (Azure Blob) and s3rver (S3).

Both run from npm as separate processes on free ports. Azurite checks SAS signatures and expiry,
so the presigned-URL tests on it are honest; s3rver checks expiry but accepts any well-formed
signature, so on S3 only expiry is asserted.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gouache.errors import ConfigError, StorageError
from gouache.storage import ImageStore, LocalImageStore, check_storage, from_url
from tests.conftest import ASYNC, make_client
from tests.object_servers import (
    StorageServer,
    azurite,
    azurite_env,
    create_container,
    s3rver,
    s3rver_env,
)
from tests.server import launch

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64
BUCKET = "gouache-images"


@pytest.fixture(scope="module")
def azurite_server(tmp_path_factory) -> Iterator[StorageServer]:
    with azurite(tmp_path_factory.mktemp("azurite")) as server:
        yield server


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory) -> Iterator[StorageServer]:
    with s3rver(tmp_path_factory.mktemp("s3rver"), BUCKET) as server:
        yield server


@pytest.fixture
def azure_store(azurite_server, monkeypatch):
    for name, value in azurite_env(azurite_server).items():
        monkeypatch.setenv(name, value)
    container = f"c{uuid.uuid4().hex[:12]}"
    create_container(azurite_server, container)
    return from_url(f"az://{container}/some/prefix", default_folder=Path("unused"))


@pytest.fixture
def s3_store(s3_server, monkeypatch):
    for name, value in s3rver_env().items():
        monkeypatch.setenv(name, value)
    return from_url(
        f"s3://{BUCKET}/p{uuid.uuid4().hex[:8]}",
        default_folder=Path("unused"),
        endpoint=s3_server.url,
    )


@pytest.fixture(params=["azure", "s3"])
def store(request):
    return request.getfixturevalue(f"{request.param}_store")


async def _read_body(store, operation_id: str, name: str, start: int, end: int) -> bytes:
    handle = await store.open(operation_id, name)
    assert handle is not None
    assert handle.size == len(PNG)
    body = await handle.body(start, end)
    return b"".join([chunk async for chunk in body.chunks])


def test_both_backends_offer_the_image_store_interface(store, tmp_path: Path):
    assert isinstance(store, ImageStore) and store.can_presign
    local = LocalImageStore(tmp_path / "images")
    assert isinstance(local, ImageStore) and not local.can_presign


def test_put_read_open_list_and_delete(store):
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    assert store.put(first, 0, "png", PNG) == "0.png"
    assert store.put(first, 1, "png", PNG[::-1]) == "1.png"
    assert store.put(second, 0, "png", PNG) == "0.png"
    assert store.read(first, "0.png") == PNG
    assert store.read(first, "1.png") == PNG[::-1]
    assert sorted(store.operation_ids()) == sorted([first, second])
    assert asyncio.run(_read_body(store, first, "0.png", 0, len(PNG))) == PNG
    assert asyncio.run(_read_body(store, first, "0.png", 10, 20)) == PNG[10:20]

    store.delete(first)
    assert store.operation_ids() == [second]
    with pytest.raises(FileNotFoundError):
        store.read(first, "0.png")
    assert asyncio.run(store.open(first, "0.png")) is None
    assert store.read(second, "0.png") == PNG
    store.delete(first)  # nothing left: still fine


def test_names_that_are_not_stored_images_are_never_read(store):
    operation_id = str(uuid.uuid4())
    store.put(operation_id, 0, "png", PNG)
    for bad_id, name in [
        (operation_id, "0.gif"),
        (operation_id, "..%2F0.png"),
        ("not-a-uuid", "0.png"),
        (operation_id, "7.png"),
    ]:
        assert asyncio.run(store.open(bad_id, name)) is None
    with pytest.raises(ValueError):
        store.put(operation_id, 0, "gif", PNG)


def test_a_stopped_store_is_a_storage_error_without_its_address(azurite_server, azure_store):
    operation_id = str(uuid.uuid4())
    azure_store.put(operation_id, 0, "png", PNG)
    azurite_server.stop()
    try:
        for attempt in (
            lambda: azure_store.put(operation_id, 1, "png", PNG),
            lambda: azure_store.read(operation_id, "0.png"),
            lambda: azure_store.delete(operation_id),
            azure_store.operation_ids,
        ):
            with pytest.raises(StorageError) as caught:
                attempt()
            message = caught.value.message
            assert caught.value.status_code == 503
            assert str(azurite_server.port) not in message
            assert "127.0.0.1" not in message and "devstoreaccount1" not in message
    finally:
        azurite_server.restart()
    # The failed delete reported failure, and indeed nothing was removed.
    assert azure_store.read(operation_id, "0.png") == PNG
    azure_store.delete(operation_id)
    assert azure_store.operation_ids() == []


def test_wrong_credentials_are_a_storage_error_that_names_them(s3_server, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "NOT-A-KEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    store = from_url(f"s3://{BUCKET}/x", default_folder=Path("unused"), endpoint=s3_server.url)
    with pytest.raises(StorageError) as caught:
        store.put(str(uuid.uuid4()), 0, "png", PNG)
    assert "credentials" in caught.value.message
    assert "NOT-A-KEY" not in caught.value.message
    assert str(s3_server.port) not in caught.value.message


def test_azure_presigned_url_works_is_bound_to_its_object_and_expires(azure_store):
    operation_id = str(uuid.uuid4())
    azure_store.put(operation_id, 0, "png", PNG)
    azure_store.put(operation_id, 1, "png", PNG[::-1])
    url = azure_store.presigned_url(operation_id, "0.png", 2)
    fetched = httpx.get(url)
    assert fetched.status_code == 200
    assert fetched.content == PNG
    assert fetched.headers["content-type"] == "image/png"
    # Azurite checks the SAS signature: the same query cannot open the other image, and a
    # changed signature is refused.
    other = url.replace(f"{operation_id}/0.png", f"{operation_id}/1.png")
    assert httpx.get(other).status_code == 403
    forged = re.sub(r"sig=[^&]+", "sig=" + "A" * 43 + "%3D", url)
    assert httpx.get(forged).status_code == 403
    time.sleep(3.2)
    expired = httpx.get(url)
    assert expired.status_code == 403
    assert b"AuthenticationFailed" in expired.content or b"AuthorizationFailure" in expired.content


def test_s3_presigned_url_works_and_expires(s3_store):
    """s3rver accepts any well-formed signature, so only expiry is checked here."""
    operation_id = str(uuid.uuid4())
    s3_store.put(operation_id, 0, "png", PNG)
    url = s3_store.presigned_url(operation_id, "0.png", 2)
    fetched = httpx.get(url)
    assert fetched.status_code == 200
    assert fetched.content == PNG
    time.sleep(3.2)
    expired = httpx.get(url)
    assert expired.status_code == 403
    assert b"expired" in expired.content


@pytest.mark.parametrize(
    ("storage", "endpoint", "links", "words"),
    [
        ("ftp://host/x", "", "stream", "ftp://, which is not supported"),
        ("s3://", "", "stream", "names no bucket"),
        ("gs://bucket", "http://localhost:9000", "stream", "applies only to s3://"),
        ("s3://bucket", "localhost:9000", "stream", "must be an http:// or https:// URL"),
        ("", "", "redirect", "needs object storage"),
        ("/srv/images", "", "redirect", "needs object storage"),
        ("az://c", "", "proxy", "allowed: 'stream'"),
    ],
)
def test_settings_that_cannot_work_stop_the_start(storage, endpoint, links, words):
    with pytest.raises(ConfigError, match=re.escape(words)):
        check_storage(storage, endpoint, links)


def test_a_folder_or_empty_setting_is_a_local_store(tmp_path: Path):
    assert isinstance(from_url("", default_folder=tmp_path / "d"), LocalImageStore)
    store = from_url(str(tmp_path / "elsewhere"), default_folder=tmp_path / "d")
    assert isinstance(store, LocalImageStore)
    assert store.root == tmp_path / "elsewhere"
    check_storage("az://container/prefix", "", "redirect")


@pytest.mark.parametrize(
    ("args", "env", "words"),
    [
        (["--storage", "ftp://files/x"], {}, "ftp://, which is not supported"),
        ([], {"GOUACHE_LINKS": "redirect"}, "needs object storage"),
    ],
)
def test_serve_refuses_storage_settings_that_cannot_work(tmp_path: Path, args, env, words):
    server = launch(tmp_path / "data", args=args, env=env)
    assert server.process.wait(60) == 2
    assert f"gouache serve: {words}" in server.log() or words in server.log()
    assert "Traceback" not in server.log()


def test_a_link_to_a_stopped_store_is_a_503_in_the_error_shape(
    azurite_server, monkeypatch, tmp_path: Path
):
    for name, value in azurite_env(azurite_server).items():
        monkeypatch.setenv(name, value)
    container = f"c{uuid.uuid4().hex[:12]}"
    create_container(azurite_server, container)
    with make_client(tmp_path, storage=f"az://{container}/imgs") as client:
        response = client.post(ASYNC, json={"prompt": "a kite", "size": "256x256"})
        location = response.headers["operation-location"]
        deadline = time.monotonic() + 30
        while (body := client.get(location).json())["status"] != "succeeded":
            assert time.monotonic() < deadline, body
            time.sleep(0.05)
        url = body["result"]["data"][0]["url"]
        image = client.get(url)
        assert image.status_code == 200
        azurite_server.stop()
        try:
            down = client.get(url)
        finally:
            azurite_server.restart()
        assert down.status_code == 503
        error = down.json()["error"]
        assert error["code"] == "storageUnavailable"
        assert str(azurite_server.port) not in error["message"]
        assert client.get(url).content == image.content
