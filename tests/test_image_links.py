"""Image links under hostile or careless input: every answer is the error JSON, never a 500 and
never plain text. In-process over a real SQLite file and image folder."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from starlette.testclient import TestClient

from tests.conftest import ASYNC, make_client, png_size


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[TestClient, str, bytes]]:
    """A client, one finished image link and the image's bytes."""
    with make_client(tmp_path_factory.mktemp("links")) as client:
        url = _first_link(client)
        image = client.get(url)
        assert image.status_code == 200
        yield client, url, image.content


def _first_link(client: TestClient) -> str:
    """Submit a small picture through `client`, wait for it, and return its first image link."""
    response = client.post(ASYNC, json={"prompt": "a kite", "size": "256x256"})
    location = response.headers["operation-location"]
    deadline = time.monotonic() + 10
    while (body := client.get(location).json())["status"] != "succeeded":
        assert time.monotonic() < deadline, body
        time.sleep(0.02)
    return body["result"]["data"][0]["url"]


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) >= {"code", "message", "type"}
    return error


def _with_query(url: str, query: str) -> str:
    return f"{urlsplit(url).path}?{query}"


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("se=%C2%B2&sig=abc", "se"),
        (f"se={'9' * 5000}&sig=abc", "se"),
        ("se=-5&sig=abc", "se"),
        ("se=1e9&sig=abc", "se"),
        ("se=4102444800&sig=%C3%A9", "sig"),
        ("se=4102444800&sig=%00%01", "sig"),
        (f"se=4102444800&sig={'A' * 5000}", "sig"),
        ("se=4102444800&sig=%F0%9F%98%80", "sig"),
        ("se=&sig=", "signature"),
        ("sig=abc", "signature"),
    ],
)
def test_malformed_link_queries_are_403_in_the_error_shape(served, query, words):
    client, url, _ = served
    error = _error(client.get(_with_query(url, query)), 403)
    assert error["code"] == "AuthenticationFailed"
    assert words in error["message"]


def test_a_lone_surrogate_escape_in_the_query_is_a_4xx(served):
    client, url, _ = served
    response = client.get(_with_query(url, "se=%ED%A0%80&sig=%ED%A0%80"))
    _error(response, 403)


def test_a_valid_range_is_answered_with_206_and_exact_bytes(served):
    client, url, data = served
    response = client.get(url, headers={"range": "bytes=0-9"})
    assert response.status_code == 206
    assert response.content == data[:10]
    assert response.headers["content-range"] == f"bytes 0-9/{len(data)}"
    tail = client.get(url, headers={"range": "bytes=-16"})
    assert tail.status_code == 206
    assert tail.content == data[-16:]
    rest = client.get(url, headers={"range": f"bytes={len(data) - 5}-"})
    assert rest.content == data[-5:]
    whole = client.get(url, headers={"range": "bytes=0-"})
    assert whole.content == data
    assert png_size(whole.content) == (256, 256)


@pytest.mark.parametrize(
    "header",
    ["bytes=abc", "bytes=9-2", "items=0-1", "bytes", "bytes=", "bytes=--1", "bytes=%C3%A9-"],
)
def test_a_malformed_range_is_400_in_the_error_shape(served, header):
    client, url, _ = served
    error = _error(client.get(url, headers={"range": header}), 400)
    assert error["code"] == "InvalidRange"
    assert error["param"] == "range"
    assert "bytes=" in error["message"]


def test_a_range_past_the_end_is_416_in_the_error_shape(served):
    client, url, data = served
    response = client.get(url, headers={"range": f"bytes={len(data) + 10}-"})
    error = _error(response, 416)
    assert error["code"] == "InvalidRange"
    assert response.headers["content-range"] == f"bytes */{len(data)}"


def test_an_image_deleted_from_storage_is_a_404_blob_not_found(tmp_path: Path):
    with make_client(tmp_path) as client:
        url = _first_link(client)
        for file in (tmp_path / "images").rglob("*.png"):
            file.unlink()
        assert _error(client.get(url), 404)["code"] == "BlobNotFound"


SECRET = "0123456789abcdef" * 4


def test_api_nodes_with_the_same_link_secret_accept_each_others_links(tmp_path: Path):
    """Two API apps with their own data dirs, one database and one image folder: with the same
    `link_secret` a link signed by one is good on the other, and no secret file is made; a node
    with another secret refuses the link."""
    shared = {"database": f"sqlite:///{tmp_path / 'shared.db'}", "storage": str(tmp_path / "img")}
    with (
        make_client(tmp_path / "a", link_secret=SECRET, **shared) as node_a,
        make_client(tmp_path / "b", link_secret=SECRET, no_workers=True, **shared) as node_b,
        make_client(tmp_path / "c", no_workers=True, **shared) as node_c,
    ):
        url = _first_link(node_a)
        image = node_b.get(url)
        assert image.status_code == 200 and png_size(image.content) == (256, 256)
        assert _error(node_c.get(url), 403)["code"]
    assert not (tmp_path / "a" / "link-secret.key").exists()
    assert not (tmp_path / "b" / "link-secret.key").exists()
    assert (tmp_path / "c" / "link-secret.key").exists()


def test_a_short_link_secret_stops_the_server_at_start(tmp_path: Path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("GOUACHE_")}
    done = subprocess.run(
        [sys.executable, "-m", "gouache.cli.main", "serve", "--data-dir", str(tmp_path / "d")],
        env={**env, "GOUACHE_LINK_SECRET": "hunter2-but-longer"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "setting 'link_secret' has 18 characters; it needs at least 32" in done.stderr
    assert "hunter2" not in done.stderr + done.stdout  # the secret itself is never echoed
