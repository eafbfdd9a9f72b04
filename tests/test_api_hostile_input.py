"""Inputs a client can send that used to end in a 500: each is now a clear 4xx in the error shape.

In-process over the real app and a real SQLite file; bodies are sent as raw bytes because a
well-behaved JSON encoder cannot produce several of them (lone surrogates, 5,000 digits)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import ASYNC
from tests.error_shape import check_error_body

DEPLOY = "/openai/deployments/dall-e-3/images/generations?api-version=2024-10-21"
JSON = {"content-type": "application/json"}

# every route that takes a body, with whether its `model` field picks the deployment
BODY_ROUTES = [
    (ASYNC, True),
    (DEPLOY, False),
    ("/v1/images/generations", True),
    ("/openai/v1/images/generations", True),
]


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    return check_error_body(response.json(), response.request.url.path)


@pytest.mark.parametrize(("url", "_picks"), BODY_ROUTES)
def test_json_nested_5000_deep_is_a_400(client, url, _picks):
    raw = b'{"prompt":' + b"[" * 5000
    error = _error(client.post(url, content=raw, headers=JSON), 400)
    assert error["code"] == "invalid_json"
    assert "16 levels" in error["message"]


@pytest.mark.parametrize(("url", "_picks"), BODY_ROUTES)
def test_closed_but_deep_nesting_is_a_400(client, url, _picks):
    raw = b'{"prompt": "x", "size": ' + b"[" * 900 + b"]" * 900 + b"}"
    error = _error(client.post(url, content=raw, headers=JSON), 400)
    assert error["code"] == "invalid_json"
    assert error["param"] == "size"


@pytest.mark.parametrize(("url", "_picks"), BODY_ROUTES)
def test_a_number_of_5000_digits_is_a_400(client, url, _picks):
    raw = b'{"prompt": "x", "n": ' + b"7" * 5000 + b"}"
    error = _error(client.post(url, content=raw, headers=JSON), 400)
    assert error["code"] == "invalid_json"
    assert "5000 characters" in error["message"]
    assert len(error["message"]) < 300


def test_a_long_number_within_the_digit_cap_is_shown_short(client):
    raw = b'{"prompt": "x", "seed": ' + b"9" * 20 + b"}"
    error = _error(client.post(ASYNC, content=raw, headers=JSON), 400)
    assert error["param"] == "seed"


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_nan_and_infinity_are_not_json(client, constant):
    raw = b'{"prompt": "x", "n": ' + constant + b"}"
    error = _error(client.post(ASYNC, content=raw, headers=JSON), 400)
    assert "not JSON" in error["message"]


@pytest.mark.parametrize(("url", "picks_model"), BODY_ROUTES)
@pytest.mark.parametrize("field", ["prompt", "user", "model"])
def test_a_lone_surrogate_is_a_400_naming_the_field(client, url, picks_model, field):
    fields = {"prompt": '"a shoe"', "user": '"u1"'}
    fields[field] = '"bad \\ud800 text"'
    raw = "{" + ", ".join(f'"{k}": {v}' for k, v in fields.items()) + "}"
    error = _error(client.post(url, content=raw.encode(), headers=JSON), 400)
    assert error["param"] == field
    assert "unpaired UTF-16 surrogate (\\ud800)" in error["message"]


def test_a_lone_surrogate_in_a_field_name_is_a_400(client):
    raw = b'{"prompt": "x", "\\udc00": 1}'
    error = _error(client.post(ASYNC, content=raw, headers=JSON), 400)
    assert "surrogate" in error["message"]


def test_a_surrogate_pair_is_text_and_accepted(client):
    raw = b'{"prompt": "a shoe \\ud83d\\udc5f", "size": "256x256"}'
    assert client.post(ASYNC, content=raw, headers=JSON).status_code == 202


@pytest.mark.parametrize("model", [{}, [], 3, True, "", "  "])
@pytest.mark.parametrize("url", [ASYNC, "/v1/images/generations", DEPLOY])
def test_model_that_is_not_a_name_is_a_400_not_the_default(client, url, model):
    error = _error(client.post(url, json={"prompt": "a shoe", "model": model}), 400)
    assert error["param"] == "model"


def test_model_null_still_means_the_default(client):
    response = client.post(ASYNC, json={"prompt": "a shoe", "size": "256x256", "model": None})
    assert response.status_code == 202, response.text


def _finish(client, location: str) -> dict:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        body = client.get(location).json()
        if body["status"] not in ("notRunning", "running"):
            return body
        time.sleep(0.02)
    raise AssertionError("operation did not finish")


def test_b64_operation_whose_image_file_is_gone_reports_it(client, tmp_path: Path):
    submitted = client.post(
        ASYNC, json={"prompt": "a shoe", "size": "256x256", "response_format": "b64_json"}
    )
    location = submitted.headers["operation-location"]
    assert _finish(client, location)["status"] == "succeeded"
    folder = tmp_path / "data" / "images" / submitted.json()["id"]
    removed = [path for path in folder.iterdir() if path.suffix == ".png"]
    for path in removed:
        path.unlink()
    assert removed
    for _ in range(2):  # every poll, not only the first
        response = client.get(location)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == "failed"
        assert body["error"]["code"] == "imagesUnavailable"
        assert "Submit the request again" in body["error"]["message"]
        assert str(tmp_path) not in response.text
