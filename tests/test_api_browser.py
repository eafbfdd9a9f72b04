"""A browser cannot be turned against a local server: simple cross-origin POSTs, DNS rebinding,
framing and sniffing are refused, and CORS is closed unless configured. In-process, real app."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ASYNC, make_client
from tests.error_shape import check_error_body

DEPLOY = "/openai/deployments/dall-e-2/images/generations?api-version=2024-10-21"
POST_ROUTES = [ASYNC, DEPLOY, "/v1/images/generations", "/openai/v1/images/generations"]
BODY = b'{"prompt": "a red shoe", "size": "256x256"}'


@pytest.mark.parametrize("url", POST_ROUTES)
@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        None,
    ],
)
def test_posts_a_browser_sends_without_preflight_are_refused(client, url, content_type):
    headers = {"content-type": content_type} if content_type else {}
    response = client.post(url, content=BODY, headers=headers)
    assert response.status_code == 415, response.text
    error = check_error_body(response.json(), url.split("?")[0])
    assert error["code"] == "unsupported_media_type"
    assert "application/json" in error["message"]


def test_json_with_a_charset_is_accepted(client):
    headers = {"content-type": "application/json; charset=utf-8"}
    assert client.post(ASYNC, content=BODY, headers=headers).status_code == 202


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:8000", "localhost.evil.example", "127.0.0.1.nip.io"]
)
@pytest.mark.parametrize("url", [ASYNC, "/healthz", "/", "/v1/models"])
def test_a_host_that_is_not_ours_is_refused_and_not_reflected(client, url, host):
    response = (
        client.post(url, content=BODY, headers={"host": host, "content-type": "application/json"})
        if url == ASYNC
        else client.get(url, headers={"host": host})
    )
    assert response.status_code == 400, response.text
    error = check_error_body(response.json(), url.split("?")[0])
    assert error["code"] == "invalid_host"
    assert "operation-location" not in response.headers
    assert "allowed_hosts" in error["message"]


@pytest.mark.parametrize(
    "host",
    ["localhost", "localhost:8000", "127.0.0.1:9", "[::1]:8000", "app.localhost", "10.1.2.3"],
)
def test_loopback_names_and_addresses_are_served(tmp_path: Path, host):
    with make_client(tmp_path / "data", allowed_hosts=()) as client:
        response = client.post(
            ASYNC, content=BODY, headers={"host": host, "content-type": "application/json"}
        )
        assert response.status_code == 202, response.text
        assert response.headers["operation-location"].startswith(f"http://{host}/openai/")


def test_configured_names_and_public_url_are_served(tmp_path: Path):
    with make_client(
        tmp_path / "data",
        allowed_hosts=("images.example.com", "*.corp.example"),
        public_url="https://gouache.example.org",
    ) as client:
        for host in ("images.example.com", "a.b.corp.example:443", "gouache.example.org"):
            assert client.get("/healthz", headers={"host": host}).status_code == 200, host
        for host in ("corp.example", "example.com", "images.example.com.evil"):
            refused = client.get("/healthz", headers={"host": host})
            assert refused.status_code == 400, host
            # the configured names are not told to a caller who does not know them
            assert "*.corp.example" not in refused.text
            assert "gouache.example.org" not in refused.text


def test_star_turns_the_host_check_off(tmp_path: Path):
    with make_client(tmp_path / "data", allowed_hosts=("*",)) as client:
        assert client.get("/healthz", headers={"host": "anything.example"}).status_code == 200


def test_the_page_has_a_strict_content_policy(client):
    response = client.get("/")
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    for url in ("/healthz", "/static/app.js", "/nothing"):
        response = client.get(url)
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_cors_is_closed_by_default(client):
    preflight = client.options(
        ASYNC,
        headers={
            "origin": "https://evil.example",
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        },
    )
    assert "access-control-allow-origin" not in preflight.headers
    assert preflight.status_code == 405
    response = client.get("/v1/models", headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in response.headers


def test_cors_opens_for_configured_origins_only(tmp_path: Path):
    with make_client(tmp_path / "data", cors_origins=("https://app.example.com",)) as client:
        preflight = {
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type, api-key",
        }
        ok = client.options(ASYNC, headers={"origin": "https://app.example.com", **preflight})
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == "https://app.example.com"
        refused = client.options(ASYNC, headers={"origin": "https://evil.example", **preflight})
        assert "access-control-allow-origin" not in refused.headers
        response = client.get("/v1/models", headers={"origin": "https://app.example.com"})
        assert response.headers["access-control-allow-origin"] == "https://app.example.com"


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("POST", "/openai/images/generations:submit?api-version=1999-01-01"),
        ("POST", "/openai/images/generations:submit"),
        ("GET", "/openai/operations/images/x?api-version=nope"),
        ("DELETE", "/openai/operations/images/x"),
        ("POST", "/openai/deployments/dall-e-3/images/generations?api-version=bad"),
    ],
)
def test_the_key_is_checked_before_the_api_version(tmp_path: Path, method, url):
    with make_client(tmp_path / "data", api_keys=("k1",)) as client:
        response = client.request(method, url, json={"prompt": "x"})
        assert response.status_code == 401, response.text
        assert "api-version" not in response.text
        assert "2023-06-01-preview" not in response.text


def test_many_invented_hosts_change_no_verdict(client):
    for index in range(200):
        assert client.get("/healthz", headers={"host": f"n{index}.evil.example"}).status_code == 400
        assert client.get("/healthz", headers={"host": f"127.0.0.{index % 250}"}).status_code == 200
    assert client.get("/healthz", headers={"host": "evil.example"}).status_code == 400
    assert client.get("/healthz", headers={"host": "localhost:8000"}).status_code == 200
