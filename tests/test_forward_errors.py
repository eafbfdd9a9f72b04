"""The forwarding engine against scripted upstream answers (httpx.MockTransport).

These pin the wire details and the error mapping one case at a time; tests/test_engine_forward.py
runs the same engine against real `gouache serve` processes.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable

import httpx
import pytest
from PIL import Image

from gouache.engines import create_engine
from gouache.engines.base import ImageRequest
from gouache.engines.forward import ForwardEngine
from gouache.engines.forward_errors import parse_retry_after
from gouache.errors import ConfigError, ContentFiltered, TooManyRequests, UpstreamError

ENDPOINT = "https://res.example.test"


def png(width: int = 8, height: int = 8) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def engine_with(
    handler: Callable[[httpx.Request], httpx.Response], **options: object
) -> tuple[ForwardEngine, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    values = {"api": "azure", "endpoint": ENDPOINT, "deployment": "dalle3", "api_key": "K"}
    values.update(options)
    engine = create_engine("forward", values)
    assert isinstance(engine, ForwardEngine)
    engine._make_client = lambda: httpx.Client(transport=httpx.MockTransport(record))  # type: ignore[method-assign]
    engine.setup()
    return engine, seen


def request(**fields: object) -> ImageRequest:
    values: dict = {"prompt": "a lighthouse", "n": 1, "size": "1024x1024", "seed": 1}
    values.update(fields)
    return ImageRequest(**values)


def error(status: int, code: str, message: str, headers: dict | None = None, **extra):
    body = {"error": {"code": code, "message": message, "param": None, "type": "x", **extra}}
    return lambda _request: httpx.Response(status, json=body, headers=headers)


def test_azure_sync_sends_the_deployment_route_and_decodes_b64() -> None:
    image = png(16, 8)
    engine, seen = engine_with(
        lambda r: httpx.Response(
            200,
            json={
                "created": 1,
                "data": [{"b64_json": base64.b64encode(image).decode(), "revised_prompt": "rp"}],
            },
        )
    )
    [[result]] = engine.generate([request(quality="hd", style="natural")])
    assert result.data == image and result.media_type == "image/png"
    assert result.revised_prompt == "rp"
    sent = seen[0]
    assert sent.url.path == "/openai/deployments/dalle3/images/generations"
    assert sent.url.params["api-version"] == "2024-10-21"
    assert sent.headers["api-key"] == "K"
    body = json.loads(sent.content)
    assert body == {
        "prompt": "a lighthouse",
        "n": 1,
        "size": "1024x1024",
        "response_format": "b64_json",
        "quality": "hd",
        "style": "natural",
    }


def test_openai_sends_model_and_downloads_urls_without_the_key() -> None:
    image = png()

    def handler(r: httpx.Request) -> httpx.Response:
        if r.url.host == "cdn.example.test":
            return httpx.Response(200, content=image, headers={"content-type": "image/png"})
        urls = [{"url": f"https://cdn.example.test/img{i}.png?sig=x"} for i in range(2)]
        return httpx.Response(200, json={"created": 1, "data": urls})

    engine, seen = engine_with(handler, api="openai", model="dall-e-2", response_format="url")
    [images] = engine.generate([request(n=2)])
    assert [i.data for i in images] == [image, image]
    assert seen[0].url.path == "/v1/images/generations"
    assert seen[0].headers["authorization"] == "Bearer K"
    assert json.loads(seen[0].content)["model"] == "dall-e-2"
    for download in seen[1:]:
        assert "authorization" not in download.headers and "api-key" not in download.headers


def test_azure_async_submits_polls_honouring_retry_after_and_deletes() -> None:
    image = png()
    polls = iter(["notRunning", "running", "succeeded"])
    location = f"{ENDPOINT}/openai/operations/images/op1?api-version=2023-06-01-preview"

    def handler(r: httpx.Request) -> httpx.Response:
        if r.method == "POST":
            return httpx.Response(
                202,
                json={"id": "op1", "status": "notRunning"},
                headers={"operation-location": location, "retry-after": "0"},
            )
        if r.method == "DELETE":
            return httpx.Response(204)
        if r.url.host == "blob.example.test":
            return httpx.Response(200, content=image)
        status = next(polls)
        body: dict = {"id": "op1", "created": 1, "status": status}
        if status == "succeeded":
            body["result"] = {"data": [{"url": "https://blob.example.test/a.png"}]}
        return httpx.Response(200, json=body, headers={"retry-after": "0"})

    engine, seen = engine_with(handler, api="azure-async")
    [[result]] = engine.generate([request(size="512x512")])
    assert result.data == image
    assert seen[0].url.path == "/openai/images/generations:submit"
    assert json.loads(seen[0].content) == {"prompt": "a lighthouse", "n": 1, "size": "512x512"}
    assert [r.method for r in seen] == ["POST", "GET", "GET", "GET", "GET", "DELETE"]
    assert seen[-1].url == httpx.URL(location)


def test_async_operation_failed_by_content_filter() -> None:
    def handler(r: httpx.Request) -> httpx.Response:
        if r.method == "POST":
            return httpx.Response(
                202, json={"id": "op2", "status": "notRunning"}, headers={"retry-after": "0"}
            )
        return httpx.Response(
            200,
            json={
                "id": "op2",
                "status": "failed",
                "error": {
                    "code": "contentFilter",
                    "message": "Your task failed as a result of our safety system.",
                },
            },
        )

    engine, seen = engine_with(handler, api="azure-async")
    with pytest.raises(ContentFiltered, match="safety system"):
        engine.generate([request()])
    # Without operation-location the poll URL is built from the id.
    assert seen[1].url.path == "/openai/operations/images/op2"


def test_content_policy_refusal_becomes_content_filtered() -> None:
    inner = {
        "code": "ResponsibleAIPolicyViolation",
        "content_filter_results": {"hate": {"filtered": True}},
    }
    engine, _ = engine_with(
        error(400, "content_policy_violation", "Rejected by upstream.", inner_error=inner)
    )
    with pytest.raises(ContentFiltered) as caught:
        engine.generate([request()])
    assert caught.value.message == "Rejected by upstream."
    assert caught.value.inner_error == inner
    assert caught.value.status_code == 400


@pytest.mark.parametrize(("headers", "expected"), [({"retry-after": "7"}, 7), ({}, 1)])
def test_upstream_429_keeps_its_retry_after(headers: dict, expected: int) -> None:
    engine, _ = engine_with(error(429, "429", "Rate limit exceeded.", headers))
    with pytest.raises(TooManyRequests) as caught:
        engine.generate([request()])
    assert caught.value.retry_after == expected
    assert caught.value.headers["retry-after"] == str(expected)


def test_upstream_validation_error_passes_through() -> None:
    handler = lambda r: httpx.Response(  # noqa: E731
        400,
        json={
            "error": {
                "code": "invalid_size",
                "message": "size 7x7 is not allowed",
                "param": "size",
                "type": "x",
            }
        },
    )
    engine, _ = engine_with(handler)
    with pytest.raises(UpstreamError) as caught:
        engine.generate([request()])
    assert (caught.value.status_code, caught.value.code) == (400, "invalid_size")
    assert caught.value.message == "size 7x7 is not allowed" and caught.value.param == "size"


def test_upstream_rejecting_our_key_is_a_502_naming_the_endpoint() -> None:
    engine, _ = engine_with(error(401, "401", "Access denied due to invalid subscription key."))
    with pytest.raises(UpstreamError) as caught:
        engine.generate([request()])
    assert caught.value.status_code == 502
    assert ENDPOINT in caught.value.message and "invalid subscription key" in caught.value.message


def test_upstream_server_error_and_non_json_body() -> None:
    engine, _ = engine_with(lambda r: httpx.Response(503, text="<html>down</html>"))
    with pytest.raises(UpstreamError) as caught:
        engine.generate([request()])
    assert caught.value.status_code == 503 and "down" in caught.value.message


@pytest.mark.parametrize(
    ("exc", "status"),
    [(httpx.ConnectError("connection refused"), 502), (httpx.ReadTimeout("timed out"), 504)],
)
def test_network_failures_name_the_endpoint(exc: Exception, status: int) -> None:
    def handler(r: httpx.Request) -> httpx.Response:
        raise exc

    engine, _ = engine_with(handler)
    with pytest.raises(UpstreamError) as caught:
        engine.generate([request()])
    assert caught.value.status_code == status
    assert ENDPOINT in caught.value.message


def test_fewer_images_than_asked_is_an_upstream_error() -> None:
    b64 = base64.b64encode(png()).decode()
    engine, _ = engine_with(
        lambda r: httpx.Response(200, json={"created": 1, "data": [{"b64_json": b64}]})
    )
    with pytest.raises(UpstreamError, match="returned 1 images for n=3"):
        engine.generate([request(n=3)])


def test_api_key_env_is_read_once_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPSTREAM_KEY_FOR_TEST", "from-env")
    engine = create_engine(
        "forward",
        {"api": "openai", "endpoint": ENDPOINT + "/v1", "api_key_env": "UPSTREAM_KEY_FOR_TEST"},
    )
    monkeypatch.delenv("UPSTREAM_KEY_FOR_TEST")
    assert engine._auth_headers() == {"authorization": "Bearer from-env"}
    with pytest.raises(ConfigError, match="UPSTREAM_KEY_FOR_TEST"):
        create_engine(
            "forward",
            {"api": "openai", "endpoint": ENDPOINT, "api_key_env": "UPSTREAM_KEY_FOR_TEST"},
        )


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"endpoint": ENDPOINT}, "api must be one of"),
        ({"api": "azure"}, "endpoint"),
        ({"api": "azure", "endpoint": ENDPOINT}, "deployment is required"),
        ({"api": "openai", "endpoint": ENDPOINT, "apikey": "x"}, "apikey"),
    ],
)
def test_bad_options_are_config_errors(options: dict, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        create_engine("forward", options)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "3"}, 3),
        ({"retry-after": "2.5"}, 3),
        ({"retry-after-ms": "1500", "retry-after": "9"}, 2),
        ({"retry-after": "soon"}, 1),
        ({}, 1),
    ],
)
def test_parse_retry_after(headers: dict, expected: int) -> None:
    assert parse_retry_after(headers) == expected
