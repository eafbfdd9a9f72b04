"""Bad input gets a 4xx in the contract's error shape, with a message that teaches; never a 500."""

from __future__ import annotations

import pytest

from tests.conftest import ASYNC
from tests.error_shape import check_error_body

DEPLOY = "/openai/deployments/{name}/images/generations?api-version={version}"


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    error = check_error_body(response.json(), response.request.url.path)
    assert response.headers["x-ms-error-code"] == error["code"]
    return error


@pytest.mark.parametrize(
    ("body", "param", "words"),
    [
        ({}, "prompt", "'prompt' is required"),
        ({"prompt": ""}, "prompt", "must not be empty"),
        ({"prompt": "   "}, "prompt", "must not be empty"),
        ({"prompt": 42}, "prompt", "must be a string"),
        ({"prompt": "x" * 1001}, "prompt", "1001 characters; the maximum"),
        ({"prompt": "x", "n": 0}, "n", "from 1 to 5"),
        ({"prompt": "x", "n": 6}, "n", "from 1 to 5"),
        ({"prompt": "x", "n": "2"}, "n", "must be an integer"),
        ({"prompt": "x", "n": 2.0}, "n", "must be an integer"),
        ({"prompt": "x", "n": True}, "n", "must be an integer"),
        ({"prompt": "x", "size": "300x300"}, "size", "256x256, 512x512, 1024x1024"),
        ({"prompt": "x", "size": "1792x1024"}, "size", "must be one of"),
        ({"prompt": "x", "response_format": "jpeg"}, "response_format", "url, b64_json"),
        ({"prompt": "x", "user": 7}, "user", "must be a string"),
        ({"prompt": "x", "user": "u" * 257}, "user", "at most 256"),
        ({"prompt": "x", "quality": "hd"}, "quality", "not part of"),
        ({"prompt": "x", "colour": "red"}, "colour", "Unrecognized request argument"),
        ({"prompt": "x", "seed": -1}, "seed", "from 0 to"),
    ],
)
def test_async_submit_rejects_bad_fields(client, body, param, words):
    error = _error(client.post(ASYNC, json=body), 400)
    assert error["param"] == param
    assert words in error["message"]


def test_prompt_of_exactly_1000_characters_is_accepted(client):
    assert client.post(ASYNC, json={"prompt": "x" * 1000, "size": "256x256"}).status_code == 202


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"", "empty"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'"prompt"', "must be a JSON object"),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
def test_malformed_bodies(client, raw, words):
    response = client.post(ASYNC, content=raw, headers={"content-type": "application/json"})
    error = _error(response, 400)
    assert words in error["message"]
    assert error["code"] == "invalid_json"


def test_body_over_the_cap_is_413(client):
    response = client.post(ASYNC, json={"prompt": "x" * 70_000})
    error = _error(response, 413)
    assert "limit" in error["message"]


def test_api_version_missing_or_unsupported(client):
    error = _error(client.post("/openai/images/generations:submit", json={"prompt": "x"}), 400)
    assert error["param"] == "api-version"
    assert "2023-06-01-preview" in error["message"]
    error = _error(
        client.post(
            "/openai/images/generations:submit?api-version=2024-10-21", json={"prompt": "x"}
        ),
        404,
    )
    assert "not supported" in error["message"]
    error = _error(
        client.post(DEPLOY.format(name="dall-e-3", version="2022-01-01"), json={"prompt": "x"}), 404
    )
    assert "2024-10-21" in error["message"]


def test_unknown_deployment_and_model(client):
    error = _error(
        client.post(DEPLOY.format(name="nope", version="2024-10-21"), json={"prompt": "x"}), 404
    )
    assert error["code"] == "DeploymentNotFound"
    assert "dall-e-3" in error["message"]
    error = _error(
        client.post("/v1/images/generations", json={"prompt": "x", "model": "nope"}), 404
    )
    assert error["code"] == "model_not_found"
    error = _error(client.post(ASYNC, json={"prompt": "x", "model": "nope"}), 404)
    assert error["param"] == "model"


def test_dall_e_3_rules_on_the_deployments_route(client):
    url = DEPLOY.format(name="dall-e-3", version="2024-10-21")
    assert _error(client.post(url, json={"prompt": "x", "n": 2}), 400)["param"] == "n"
    error = _error(client.post(url, json={"prompt": "x", "size": "256x256"}), 400)
    assert "1024x1024, 1792x1024, 1024x1792" in error["message"]
    assert _error(client.post(url, json={"prompt": "x", "style": "oil"}), 400)["param"] == "style"
    error = _error(client.post(url, json={"prompt": "x", "output_format": "jpeg"}), 400)
    assert "not part of" in error["message"]
    assert _error(client.post(url, json={"prompt": "x" * 4001}), 400)["param"] == "prompt"


def test_gpt_image_fields_need_the_2025_preview(client):
    url = DEPLOY.format(name="gpt-image-1", version="2025-04-01-preview")
    ok = client.post(url, json={"prompt": "x", "output_format": "jpeg", "output_compression": 50})
    assert ok.status_code == 200, ok.text
    error = _error(client.post(url, json={"prompt": "x", "output_compression": 50}), 400)
    assert "PNG is lossless" in error["message"]
    error = _error(client.post(url, json={"prompt": "x", "output_format": "webp"}), 400)
    assert "png or jpeg" in error["message"]
    error = _error(client.post(url, json={"prompt": "x", "quality": "hd"}), 400)
    assert "auto, high, medium, low" in error["message"]
    # streaming starts with 2025-04-01-preview (tests/test_api_streaming.py); GA versions lack it
    ga = DEPLOY.format(name="gpt-image-1", version="2024-10-21")
    error = _error(client.post(ga, json={"prompt": "x", "stream": True}), 400)
    assert error["param"] == "stream"


def test_unknown_route_and_method_are_json_errors(client):
    error = _error(client.get("/openai/nothing"), 404)
    assert error["code"] == "404"
    assert _error(client.put(ASYNC, json={}), 405)["code"] == "methodNotAllowed"


@pytest.mark.parametrize(
    ("method", "url", "allow"),
    [
        ("PUT", ASYNC, "POST"),
        ("POST", "/openai/operations/images/x?api-version=2023-06-01-preview", "DELETE, GET, HEAD"),
        ("DELETE", "/v1/images/generations", "POST"),
        ("POST", "/healthz", "GET, HEAD"),
        ("PATCH", "/images/x/0.png", "GET, HEAD"),
        ("POST", "/static/app.js", "GET, HEAD"),
        ("DELETE", "/", "GET, HEAD"),
    ],
)
def test_405_says_which_methods_are_allowed(client, method, url, allow):
    response = client.request(method, url)
    error = _error(response, 405)
    assert response.headers["allow"] == allow
    assert allow in error["message"]


def test_azure_errors_leave_out_a_missing_param_and_openai_errors_keep_it_null(client):
    empty = {"content": b"", "headers": {"content-type": "application/json"}}
    for url in (ASYNC, DEPLOY.format(name="dall-e-3", version="2024-10-21")):
        assert "param" not in _error(client.post(url, **empty), 400)
    for url in ("/v1/images/generations", "/openai/v1/images/generations"):
        assert _error(client.post(url, **empty), 400)["param"] is None
    assert "param" not in _error(client.get("/openai/nothing"), 404)
