"""`from gouache import generate_images`: the typed Python API, in-process and against a server."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid

import pytest
from PIL import Image

import gouache
from gouache.api.versions import ASYNC_VERSIONS
from gouache.client import (
    OPERATION_API_VERSIONS,
    ImageResult,
    InvalidRequest,
    Operation,
    OperationResult,
    RemoteError,
)
from gouache.errors import GouacheError
from tests.server import start_server

CONFIG = """
[deployments.dall-e-2]
profile = "dall-e-2"
engine = "instant"

[deployments.dall-e-3]
profile = "dall-e-3"
engine = "instant"

[deployments.gpt-image-1]
profile = "gpt-image-1"
engine = "instant"

[deployments.banner]  # a custom name: its rules are known only to this server
profile = "dall-e-3"
engine = "instant"
sizes = ["1792x1024", "2048x512"]
max_n = 2
"""


@pytest.fixture(autouse=True)
def no_azure_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "OPENAI_API_VERSION"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    with start_server(tmp_path_factory.mktemp("serve"), config=CONFIG) as running:
        yield running


def test_lazy_exports_from_the_package():
    assert gouache.generate_images is gouache.client.generate_images
    assert gouache.agenerate_images is gouache.client.agenerate_images


def test_client_knows_the_servers_operation_api_versions():
    assert OPERATION_API_VERSIONS == ASYNC_VERSIONS


def test_in_process_returns_a_typed_operation(tmp_path):
    seen: list[str] = []
    operation = gouache.generate_images(
        "a green bicycle",
        n=3,
        size="256x256",
        engine="instant",
        out=tmp_path,
        seed=1,
        progress=lambda status, _elapsed: seen.append(status),
    )
    assert isinstance(operation, Operation)
    assert isinstance(operation.result, OperationResult)
    assert all(isinstance(item, ImageResult) for item in operation.result.data)
    assert uuid.UUID(operation.id) and operation.status == "succeeded"
    assert operation.expires == operation.created + 86400
    assert seen[0] == "running" and seen[-1] == "succeeded"
    for path in operation.paths:
        with Image.open(path) as image:
            assert image.size == (256, 256)
    wire = operation.to_dict()
    assert wire["result"]["data"][0] == {
        "url": operation.urls[0],
        "path": operation.paths[0],
        "revised_prompt": "a green bicycle",
    }
    assert dataclasses.asdict(operation)["result"]["data"][1]["path"] == operation.paths[1]


def test_async_twin_in_process(tmp_path):
    operation = asyncio.run(
        gouache.agenerate_images("a pear", size="256x256", engine="instant", out=tmp_path)
    )
    assert len(list(tmp_path.iterdir())) == 1 == len(operation.result.data)


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"prompt": "   "}, "prompt"),
        ({"prompt": 5}, "prompt"),
        ({"prompt": "a", "n": "2"}, "n"),
        ({"prompt": "a", "n": 6}, "n"),
        ({"prompt": "a", "size": "1792x1024"}, "size"),
        ({"prompt": "a", "user": "u" * 300}, "user"),
        ({"prompt": "a", "endpoint": "ftp://example.com"}, "endpoint"),
    ],
)
def test_input_errors_raise_invalid_request(kwargs, param, tmp_path):
    with pytest.raises(InvalidRequest) as caught:
        gouache.generate_images(**kwargs, engine="instant", out=tmp_path / "x")
    assert caught.value.param == param
    assert isinstance(caught.value, GouacheError)
    assert not (tmp_path / "x").exists()


def test_unknown_engine_is_a_gouache_error():
    with pytest.raises(GouacheError, match="unknown engine 'nope'"):
        gouache.generate_images("a", engine="nope")


def test_remote_async_route_sync_and_async(server, tmp_path):
    operation = gouache.generate_images("a boat", n=2, size="512x512", endpoint=server.url)
    assert operation.expires == operation.created + 86400
    assert all(url.startswith(server.url) for url in operation.urls)
    assert operation.paths == [None, None]

    operation = asyncio.run(
        gouache.agenerate_images(
            "a boat", n=2, size="256x256", endpoint=server.url, out=tmp_path, user="u1"
        )
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"{operation.id}-0.png",
        f"{operation.id}-1.png",
    ]


def test_remote_deployments_route_errors_are_typed(server):
    with pytest.raises(RemoteError) as caught:
        gouache.generate_images(
            "a", n=3, endpoint=server.url, deployment="banner", api_version="2024-10-21"
        )
    error = caught.value
    assert (error.status_code, error.code, error.param) == (400, "invalid_value", "n")
    assert str(error) == "error 400 invalid_value: 'n' must be from 1 to 2; received 3."


@pytest.mark.parametrize("api_version", ["2023-06-01-preview", "2024-10-21"])
def test_remote_dall_e_3_makes_wide_pictures(server, tmp_path, api_version):
    """Checked against dall-e-3's rules, not the seed action's: 1792x1024 is sent and drawn."""
    operation = gouache.generate_images(
        "a harbour at dawn", size="1792x1024", endpoint=server.url, deployment="dall-e-3",
        api_version=api_version, out=tmp_path,
    )  # fmt: skip
    (path,) = operation.paths
    with Image.open(path) as image:
        assert (image.format, image.size) == ("PNG", (1792, 1024))


@pytest.mark.parametrize("api_version", ["2023-06-01-preview", "2024-10-21"])
def test_remote_custom_deployment_takes_its_own_sizes(server, tmp_path, api_version):
    operation = gouache.generate_images(
        "a long banner of hills", n=2, size="2048x512", endpoint=server.url,
        deployment="banner", api_version=api_version, out=tmp_path,
    )  # fmt: skip
    assert len(operation.paths) == 2
    for path in operation.paths:
        with Image.open(path) as image:
            assert image.size == (2048, 512)


def test_remote_gpt_image_auto_size_is_the_servers_choice(server, tmp_path):
    """`auto` names no dimensions: the image is saved at whatever size the server drew."""
    operation = gouache.generate_images(
        "a kite", size="auto", endpoint=server.url, deployment="gpt-image-1",
        api_version="2025-04-01-preview", out=tmp_path,
    )  # fmt: skip
    (path,) = operation.paths
    with Image.open(path) as image:
        assert image.size == (1024, 1024)


def test_remote_custom_deployment_refusal_is_the_servers_own(server, tmp_path):
    with pytest.raises(RemoteError) as caught:
        gouache.generate_images(
            "a cat", size="512x512", endpoint=server.url, deployment="banner",
            api_version="2024-10-21", out=tmp_path / "cats",
        )  # fmt: skip
    error = caught.value
    assert (error.status_code, error.param) == (400, "size")
    assert error.message == (
        "'size' must be one of 1792x1024, 2048x512 for deployment 'banner' (dall-e-3); "
        'received "512x512".'
    )
    assert not (tmp_path / "cats").exists()


@pytest.mark.parametrize(
    ("kwargs", "param", "message"),
    [
        # a custom deployment: only what no deployment accepts is refused before sending
        ({"deployment": "banner", "size": "wide"}, "size", "'size' must be WIDTHxHEIGHT"),
        ({"deployment": "banner", "size": "0x512"}, "size", "'size' must be WIDTHxHEIGHT"),
        ({"deployment": "banner", "n": 0}, "n", "'n' must be at least 1; received 0."),
        ({"deployment": "banner", "prompt": " "}, "prompt", "'prompt' must not be empty"),
        # a model family's name: that model's rules
        ({"deployment": "dall-e-3", "n": 2}, "n", "'n' must be from 1 to 1; received 2."),
        ({"deployment": "dall-e-3", "size": "512x512"}, "size", "for deployment 'dall-e-3'"),
        # no deployment on the operation API: the seed action's dall-e-2 rules, n 1..5
        ({"n": 6}, "n", "'n' must be from 1 to 5; received 6."),
        ({"size": "1792x1024"}, "size", "for deployment 'dall-e-2' (dall-e-2)"),
        # no deployment on the deployments route: its default, dall-e-3
        ({"api_version": "2024-10-21", "n": 2}, "n", "'n' must be from 1 to 1; received 2."),
    ],
)
def test_remote_inputs_refused_before_sending(kwargs, param, message, tmp_path):
    # nothing listens on the endpoint: an InvalidRequest (not a network RemoteError) shows the
    # client refused before trying to send
    arguments = {"prompt": "a cat", "endpoint": "http://127.0.0.1:9", "retries": 1, **kwargs}
    with pytest.raises(InvalidRequest) as caught:
        gouache.generate_images(**arguments, out=tmp_path / "x")
    assert caught.value.param == param
    assert message in caught.value.message
    assert not (tmp_path / "x").exists()


def test_environment_is_read_at_call_time(server, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", server.url)
    operation = gouache.generate_images("a boat", size="256x256")
    assert operation.urls[0].startswith(server.url)


def test_default_engine_draws_in_process(tmp_path):
    operation = gouache.generate_images("a red apple on a table", size="256x256", out=tmp_path)
    with Image.open(operation.paths[0]) as image:
        assert image.size == (256, 256)
        assert len(image.convert("RGB").getcolors(1 << 20)) > 16  # a drawing, not a flat colour
