"""Property test: whatever a client sends to any route, the answer is never a 5xx, and every error
is the documented `{"error": {...}}` shape (with `param` as each surface documents it).

Generated JSON values, field types, content types, query strings, ids, link parameters and Range
headers go to the real app over a real SQLite file. The example counts are modest; under CI the
`ci` profile makes the run derandomized (the same examples every time)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from gouache.api import create_app
from gouache.config import default_deployments
from gouache.settings import load_settings
from tests.error_shape import check_error_body

COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}
settings.register_profile("dev", max_examples=100, **COMMON)
settings.register_profile("ci", max_examples=100, derandomize=True, print_blob=True, **COMMON)
settings.load_profile("ci" if os.environ.get("CI") == "true" else "dev")

ASYNC_VERSIONS = ["2023-06-01-preview", "2023-10-01-preview"]
DEPLOY_VERSIONS = ["2024-02-01", "2024-10-21", "2025-04-01-preview"]
FIELDS = [
    "prompt", "n", "size", "response_format", "user", "quality", "style", "model", "seed",
    "background", "output_compression", "output_format", "moderation", "stream",
    "partial_images",
]  # fmt: skip
WORDS = [
    "dall-e-2", "dall-e-3", "gpt-image-1", "256x256", "512x512", "1024x1024", "1792x1024",
    "auto", "url", "b64_json", "hd", "standard", "vivid", "natural", "png", "jpeg", "webp",
    "transparent", "opaque", "low", "high", "a red shoe", "",
]  # fmt: skip

# JSON texts and numbers of every awkward kind, including lone surrogates (valid JSON escapes)
texts = st.one_of(
    st.sampled_from(WORDS),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=990, max_size=1010),
)
numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, 1, 2, 4, 5, 10, 2**32, -1]),
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), numbers, texts),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
bodies = st.dictionaries(
    st.one_of(st.sampled_from(FIELDS), st.text(max_size=12)), json_values, max_size=6
)
# raw bodies a JSON encoder would never produce
raw_bodies = st.one_of(
    st.binary(max_size=200),
    st.sampled_from(
        [
            b'{"prompt": "\\ud800"}',
            b'{"prompt": "x", "user": "\\udfff"}',
            b'{"prompt": "x", "model": "\\ud800"}',
            b'{"prompt": "x", "n": ' + b"9" * 5000 + b"}",
            b'{"prompt":' + b"[" * 5000,
            b'{"prompt": "x", "n": NaN}',
            b'{"prompt": "x", "size": ' + b"[" * 50 + b"]" * 50 + b"}",
            b"[]",
            b"null",
            b"",
        ]
    ),
)
content_types = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "text/plain",
        None,
        "multipart/form-data",
    ]
)
query_texts = st.text(max_size=30)


def _versions(known: list[str]) -> st.SearchStrategy[str | None]:
    return st.one_of(st.none(), st.sampled_from(known), query_texts)


def _query(version: str | None, extra: dict[str, str]) -> str:
    pairs = dict(extra)
    if version is not None:
        pairs["api-version"] = version
    return "?" + urlencode(pairs) if pairs else ""


extras = st.dictionaries(st.text(max_size=8), query_texts, max_size=2)


@pytest.fixture(scope="module")
def app_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    data = tmp_path_factory.mktemp("properties") / "data"
    values = {
        "data_dir": data,
        "sweep_interval_s": 3600,
        "allowed_hosts": ("testserver",),
        "queue_max": 100_000,
    }
    app = create_app(load_settings(overrides=values, environ={}), default_deployments("instant"))
    with TestClient(app, base_url="http://testserver", raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
def finished(app_client: TestClient) -> dict[str, Any]:
    """Real operations to poke at: one with links, one with b64 images."""
    ids, links = [], []
    for response_format in ("url", "b64_json"):
        submitted = app_client.post(
            f"/openai/images/generations:submit?api-version={ASYNC_VERSIONS[0]}",
            json={"prompt": "a shoe", "size": "256x256", "response_format": response_format},
        )
        location = submitted.headers["operation-location"]
        deadline = time.monotonic() + 30
        while (body := app_client.get(location).json())["status"] != "succeeded":
            assert time.monotonic() < deadline, body
            time.sleep(0.02)
        ids.append(body["id"])
        links += [item["url"] for item in body["result"]["data"] if "url" in item]
    return {"ids": ids, "links": links}


def _check(response, path: str) -> None:
    assert response.status_code < 500, (response.status_code, response.text)
    if response.status_code >= 400 and response.status_code != 499:
        check_error_body(response.json(), path)
    if response.status_code == 405:
        assert response.headers["allow"], response.headers


def _post(client: TestClient, path: str, query: str, body: Any, raw: bytes | None, ctype):
    headers = {"content-type": ctype} if ctype else {}
    content = raw if raw is not None else _encode(body)
    response = client.post(path + query, content=content, headers=headers)
    _check(response, path)


def _encode(body: Any) -> bytes:
    import json

    return json.dumps(body).encode()


@given(
    version=_versions(ASYNC_VERSIONS),
    extra=extras,
    body=bodies,
    raw=st.one_of(st.none(), raw_bodies),
    ctype=content_types,
)
def test_async_submit(app_client, version, extra, body, raw, ctype):
    path = "/openai/images/generations:submit"
    _post(app_client, path, _query(version, extra), body, raw, ctype)


@given(
    method=st.sampled_from(["GET", "DELETE", "PUT", "POST"]),
    which=st.one_of(st.integers(0, 1), st.uuids().map(str), st.text(max_size=40)),
    version=_versions(ASYNC_VERSIONS),
    extra=extras,
)
def test_async_poll_and_delete(app_client, finished, method, which, version, extra):
    operation_id = finished["ids"][which] if isinstance(which, int) else which
    path = f"/openai/operations/images/{quote(operation_id, safe='')}"
    response = app_client.request(method, path + _query(version, extra))
    _check(response, urlsplit(str(response.request.url)).path)


@given(
    deployment=st.one_of(
        st.sampled_from(["dall-e-2", "dall-e-3", "gpt-image-1"]), st.text(max_size=20)
    ),
    version=_versions(DEPLOY_VERSIONS),
    extra=extras,
    body=bodies,
    raw=st.one_of(st.none(), raw_bodies),
    ctype=content_types,
)
def test_deployments_route(app_client, deployment, version, extra, body, raw, ctype):
    path = f"/openai/deployments/{quote(deployment, safe='')}/images/generations"
    headers = {"content-type": ctype} if ctype else {}
    content = raw if raw is not None else _encode(body)
    response = app_client.post(path + _query(version, extra), content=content, headers=headers)
    _check(response, urlsplit(str(response.request.url)).path)


@given(
    prefix=st.sampled_from(["/v1", "/openai/v1"]),
    extra=extras,
    body=bodies,
    raw=st.one_of(st.none(), raw_bodies),
    ctype=content_types,
)
def test_openai_generations(app_client, prefix, extra, body, raw, ctype):
    _post(app_client, f"{prefix}/images/generations", _query(None, extra), body, raw, ctype)


@given(
    path=st.sampled_from(
        ["/v1/models", "/openai/v1/models", "/healthz", "/readyz", "/metrics", "/"]
    ),
    method=st.sampled_from(["GET", "HEAD", "POST", "DELETE", "PATCH"]),
    extra=extras,
)
def test_models_health_and_page(app_client, path, method, extra):
    response = app_client.request(method, path + _query(None, extra))
    _check(response, path)


@given(
    which=st.integers(0, 1),
    se=st.one_of(
        st.none(), query_texts, st.integers(-(2**70), 2**70).map(str), st.just("9" * 5000)
    ),
    sig=st.one_of(st.none(), query_texts),
    name=st.one_of(
        st.none(), st.sampled_from(["0.png", "1.png", "0.jpeg", "x"]), st.text(max_size=10)
    ),
    range_header=st.one_of(
        st.none(),
        query_texts.map(lambda t: t.encode("utf-8").translate(None, b"\r\n\x00")),
        st.sampled_from(
            [
                "bytes=0-10",
                "bytes=-5",
                "bytes=5-1",
                "bytes=0-0,2-3",
                "bytes=abc",
                "items=1-2",
                "bytes=99999999-",
            ]
        ),
    ),
)
def test_image_links(app_client, finished, which, se, sig, name, range_header):
    link = urlsplit(finished["links"][0])
    params = dict(pair.split("=", 1) for pair in link.query.split("&"))
    if se is not None:
        params["se"] = se
    if sig is not None:
        params["sig"] = sig
    path = link.path
    if name is not None:
        path = path.rsplit("/", 1)[0] + "/" + quote(name, safe="")
    if which == 1:
        path = path.replace(link.path.split("/")[2], finished["ids"][1])
    headers = {"range": range_header} if range_header is not None else {}
    response = app_client.get(path + "?" + urlencode(params), headers=headers)
    _check(response, urlsplit(str(response.request.url)).path)
