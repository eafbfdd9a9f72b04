"""Polls of finished operations are answered by a fast path (`api/polls.py`) that skips the router;
it must give exactly the answers the full route gives, and leave every other answer to it.

Two apps share one data dir: the first serves normally (workers, the finished cache, the fast
path); the second is an API-only app over the same SQLite file, which has no cache, so every poll
it answers goes down the full route and reads the record. The same requests go to both and the
answers are compared byte for byte, with generated headers, queries and paths as well as the
common cases; a spy confirms the fast path answered the polls it should.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from gouache.api.polls import FinishedPolls
from gouache.config import Deployment
from gouache.profiles import PROFILES
from tests.conftest import ASYNC, make_client

KEYS = "first-key,second-key"
POLL = "/openai/operations/images/{id}?api-version=2023-06-01-preview"
DEPLOYMENTS = {
    "dall-e-2": Deployment(
        name="dall-e-2",
        profile=PROFILES["dall-e-2"],
        engine="tests.engines_for_tests:FailingEngine",
        options={},
    )
}


class Spy:
    """Counts the polls the fast path answered (its answers, not its refusals)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.answered = 0
        original = FinishedPolls.answer

        def answer(polls: FinishedPolls, scope: Any, host: bytes | None) -> Any:
            result = original(polls, scope, host)
            self.answered += result is not None
            return result

        monkeypatch.setattr(FinishedPolls, "answer", answer)


def _apps(data_dir: Path, **extra: Any) -> tuple[TestClient, TestClient]:
    served = make_client(data_dir, deployments=DEPLOYMENTS, **extra)
    full_route = make_client(data_dir, deployments=DEPLOYMENTS, no_workers=True, **extra)
    return served, full_route


def _finish(client: TestClient, prompt: str, headers: dict[str, str], **fields: Any) -> str:
    """Submit through `client` and wait until the operation is finished; its id."""
    response = client.post(ASYNC, json={"prompt": prompt, **fields}, headers=headers)
    assert response.status_code == 202, response.text
    operation_id = response.json()["id"]
    for _ in range(200):
        status = client.get(POLL.format(id=operation_id), headers=headers).json()["status"]
        if status in ("succeeded", "failed"):
            return operation_id
        time.sleep(0.02)
    raise AssertionError(f"operation {operation_id} did not finish")


def _answer(client: TestClient, method: str, url: str, headers: dict[str, str]) -> tuple:
    response = client.request(method, url, headers=headers)
    kept = [(k, v) for k, v in response.headers.multi_items() if k not in ("date", "server")]
    return response.status_code, kept, response.content


def _same(served: TestClient, full: TestClient, method: str, url: str, headers: dict) -> tuple:
    """Both apps' answers to one request, which must be identical."""
    ours = _answer(served, method, url, headers)
    theirs = _answer(full, method, url, headers)
    assert ours == theirs, (method, url, headers)
    return ours


@pytest.fixture
def keyed(tmp_path: Path) -> Iterator[tuple[TestClient, TestClient]]:
    served, full = _apps(tmp_path / "data", api_keys=KEYS)
    with served, full:
        yield served, full


def test_a_finished_poll_is_answered_by_the_fast_path_exactly_as_the_route_would(
    keyed, monkeypatch
):
    served, full = keyed
    spy = Spy(monkeypatch)
    headers = {"api-key": "first-key"}
    succeeded = _finish(served, "a red shoe", headers, n=2)
    failed = _finish(served, "explode please", headers)
    for operation_id, status in ((succeeded, "succeeded"), (failed, "failed")):
        spy.answered = 0
        url = POLL.format(id=operation_id)
        code, answer_headers, body = _same(served, full, "GET", url, headers)
        assert code == 200 and f'"status":"{status}"'.encode() in body
        assert ("x-content-type-options", "nosniff") in answer_headers
        assert spy.answered == 1, "the finished poll went down the full route"
        # the same key as a bearer token, both ways of sending it at once, and a wrong one first
        for variant in (
            {"authorization": "Bearer first-key"},
            {"api-key": "first-key", "authorization": "Bearer first-key"},
            {"api-key": "wrong", "authorization": "Bearer first-key"},
        ):
            assert _same(served, full, "GET", url, variant)[0] == 200
        assert spy.answered == 4
    links = served.get(POLL.format(id=succeeded), headers=headers).json()["result"]["data"]
    assert len(links) == 2
    for link in links:
        assert served.get(link["url"]).status_code == 200


def test_every_other_poll_is_left_to_the_route(keyed, monkeypatch):
    served, full = keyed
    spy = Spy(monkeypatch)
    headers = {"api-key": "first-key"}
    operation_id = _finish(served, "a blue hat", headers)
    inline = _finish(served, "a green cup", headers, response_format="b64_json")
    url = POLL.format(id=operation_id)
    spy.answered = 0
    refused = [
        ("GET", url, {}, 401),  # no key
        ("GET", url, {"api-key": "wrong"}, 401),
        ("GET", url, {"api-key": "second-key"}, 404),  # another tenant's operation
        ("GET", url.replace("2023-06-01-preview", "2024-02-01"), headers, 404),
        ("GET", url.split("?")[0], headers, 400),  # no api-version
        ("GET", url.replace("?", "/?"), headers, 200),  # redirected to the route, then answered
        ("GET", url.replace(operation_id, operation_id.upper()), headers, 404),
        ("HEAD", url, headers, 200),
        ("DELETE", url.replace(operation_id, "not-an-id"), headers, 404),
    ]
    for method, target, request_headers, expected in refused:
        code = _same(served, full, method, target, request_headers)[0]
        assert code == expected, (method, target, code)
    # b64_json answers read the images from storage, so the route answers those too
    assert _same(served, full, "GET", POLL.format(id=inline), headers)[0] == 200
    assert spy.answered == 1  # only the redirected request, once it reached the route's own URL


def test_a_deleted_operation_is_never_answered_from_a_rendered_poll(keyed, monkeypatch):
    served, full = keyed
    spy = Spy(monkeypatch)
    headers = {"api-key": "first-key"}
    operation_id = _finish(served, "a yellow kite", headers)
    url = POLL.format(id=operation_id)
    assert _same(served, full, "GET", url, headers)[0] == 200
    assert spy.answered == 1
    assert served.delete(url, headers=headers).status_code == 204
    code, _, body = _same(served, full, "GET", url, headers)
    assert code == 200 and b'"status":"deleted"' in body and b"/images/" not in body


def test_polls_count_under_the_route_template(keyed):
    served, _ = keyed
    headers = {"api-key": "first-key"}
    operation_id = _finish(served, "a grey cat", headers)
    for _ in range(5):
        assert served.get(POLL.format(id=operation_id), headers=headers).status_code == 200
    metrics = served.get("/metrics", headers=headers).text
    line = next(
        line
        for line in metrics.splitlines()
        if line.startswith("gouache_requests_total{")
        and 'route="/openai/operations/images/{operation_id}"' in line
        and 'status="200"' in line
    )
    assert float(line.rsplit(" ", 1)[1]) >= 6  # the polls while it ran, and these five


def test_links_follow_public_url_and_link_ttl(tmp_path, monkeypatch):
    spy = Spy(monkeypatch)
    served, full = _apps(tmp_path / "data", public_url="https://images.example.com", link_ttl_s=60)
    with served, full:
        operation_id = _finish(served, "a white boat", {})
        url = POLL.format(id=operation_id)
        for _ in range(5):  # links are signed to the second: retry across a second boundary
            spy.answered = 0
            ours, theirs = _answer(served, "GET", url, {}), _answer(full, "GET", url, {})
            if ours == theirs:
                break
        assert ours == theirs
        assert spy.answered == 1
        assert b"https://images.example.com/images/" in ours[2]
        first = served.get(url).json()["result"]["data"][0]["url"]
        time.sleep(1.1)  # the rendered answer is refreshed when its links' expiry moves on
        second = served.get(url).json()["result"]["data"][0]["url"]
        assert first != second
        assert int(second.split("se=")[1].split("&")[0]) > int(first.split("se=")[1].split("&")[0])


def test_a_cors_server_answers_every_poll_through_the_route(tmp_path, monkeypatch):
    spy = Spy(monkeypatch)
    with make_client(
        tmp_path / "data", deployments=DEPLOYMENTS, cors_origins=("https://app.example.com",)
    ) as client:
        operation_id = _finish(client, "a black pen", {})
        response = client.get(
            POLL.format(id=operation_id), headers={"origin": "https://app.example.com"}
        )
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "https://app.example.com"
        assert spy.answered == 0


# generated requests: whatever they are, both apps answer them alike


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> Iterator[tuple[TestClient, TestClient, str]]:
    served, full = _apps(tmp_path_factory.mktemp("polls") / "data", api_keys=KEYS)
    with served, full:
        yield served, full, _finish(served, "a tall tree", {"api-key": "first-key"})


VERSIONS = st.sampled_from(
    ["2023-06-01-preview", "2023-10-01-preview", "2024-02-01", "", "2023-06-01-PREVIEW", "v1"]
)
QUERY_PART = st.one_of(
    VERSIONS.map(lambda v: f"api-version={v}"),
    VERSIONS.map(lambda v: f"api%2Dversion={v}"),
    st.just("api-version"),
    st.from_regex(r"[a-z]{1,6}=[a-z0-9%+]{0,6}", fullmatch=True),
)
KEY_HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "api-key": st.sampled_from(["first-key", "second-key", "wrong", " first-key ", ""]),
        "authorization": st.sampled_from(
            ["Bearer first-key", "bearer second-key", "Basic first-key", "Bearer", "Bearer  "]
        ),
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    query=st.lists(QUERY_PART, max_size=3).map("&".join),
    headers=KEY_HEADERS,
    suffix=st.sampled_from(["", "/", "x", "/images"]),
    host=st.sampled_from(["testserver", "testserver:80", "TESTSERVER", "elsewhere.example"]),
)
def test_generated_polls_get_the_same_answer_from_both_paths(pair, query, headers, suffix, host):
    served, full, operation_id = pair
    url = f"/openai/operations/images/{operation_id}{suffix}?{query}"
    _same(served, full, "GET", url, {**headers, "host": host})
