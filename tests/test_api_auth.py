"""API keys: api-key header, Bearer token, both at once; 401 in the contract's shape."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ASYNC, make_client


@pytest.fixture
def keyed(tmp_path: Path):
    with make_client(tmp_path, api_keys=("k-one", "k-two")) as client:
        yield client


@pytest.mark.parametrize(
    "headers",
    [
        {"api-key": "k-one"},
        {"authorization": "Bearer k-two"},
        {"api-key": "k-one", "authorization": "Bearer k-one"},
        {"api-key": "wrong", "authorization": "Bearer k-two"},
    ],
)
def test_accepted_keys(keyed, headers):
    response = keyed.post(ASYNC, json={"prompt": "x", "size": "256x256"}, headers=headers)
    assert response.status_code == 202, response.text


@pytest.mark.parametrize(
    ("headers", "words"),
    [
        ({}, "missing subscription key"),
        ({"api-key": "wrong"}, "invalid subscription key"),
        ({"authorization": "Bearer wrong"}, "invalid subscription key"),
        ({"authorization": "Basic k-one"}, "missing subscription key"),
    ],
)
def test_refused_keys(keyed, headers, words):
    response = keyed.post(ASYNC, json={"prompt": "x"}, headers=headers)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "401"
    assert words in error["message"]


def test_every_api_route_is_protected_but_health_and_links_are_not(keyed):
    protected = [
        (
            "get",
            "/openai/operations/images/00000000-0000-4000-8000-000000000000?api-version=2023-06-01-preview",
        ),
        ("post", "/openai/deployments/dall-e-3/images/generations?api-version=2024-10-21"),
        ("post", "/v1/images/generations"),
        ("get", "/v1/models"),
    ]
    for method, path in protected:
        assert getattr(keyed, method)(path).status_code == 401, path
    assert keyed.get("/healthz").status_code == 200
    assert keyed.get("/readyz").status_code in (200, 503)
