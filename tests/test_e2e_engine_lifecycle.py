"""Engine start-up and failure, seen from outside: readiness, start-up errors, failed operations."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.server import launch, start_server, stop, wait_ready

pytestmark = pytest.mark.e2e

ASYNC = "/openai/images/generations:submit?api-version=2023-06-01-preview"


def _config(engine: str, **options: float) -> str:
    lines = ["[deployments.dall-e-2]", f'engine = "{engine}"', "[deployments.dall-e-2.options]"]
    lines += [f"{key} = {value}" for key, value in options.items()]
    return "\n".join(lines) + "\n"


def test_not_ready_until_engines_load_but_accepts_and_keeps_work(tmp_path):
    config = tmp_path / "slow.toml"
    config.write_text(_config("tests.engines_for_tests:SlowSetupEngine", setup_s=6))
    server = launch(tmp_path / "data", config=config)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"{server.url}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, server.log()
                time.sleep(0.05)
        assert health.status_code == 200
        ready = httpx.get(f"{server.url}/readyz")
        assert ready.status_code == 503
        assert ready.json()["status"] == "loading"
        submitted = httpx.post(server.url + ASYNC, json={"prompt": "early", "size": "256x256"})
        assert submitted.status_code == 202
        wait_ready(server)
        for _ in range(100):
            body = httpx.get(submitted.headers["operation-location"]).json()
            if body["status"] == "succeeded":
                break
            time.sleep(0.05)
        assert body["status"] == "succeeded"
    finally:
        stop(server)


def test_engine_that_fails_to_load_stops_the_server_with_its_message(tmp_path):
    config = tmp_path / "broken.toml"
    config.write_text(_config("tests.engines_for_tests:BrokenSetupEngine"))
    server = launch(tmp_path / "data", config=config)
    try:
        code = server.process.wait(60)
    finally:
        stop(server)
    assert code == 1
    log = server.log()
    assert "failed to load" in log
    assert "/nowhere/model does not exist" in log


def test_unknown_engine_and_bad_config_are_start_up_errors(tmp_path):
    config = tmp_path / "unknown.toml"
    config.write_text(_config("no-such-engine"))
    server = launch(tmp_path / "d1", config=config)
    assert server.process.wait(60) != 0
    assert "unknown engine 'no-such-engine'" in server.log()
    config.write_text("[deployments.x]\nprofile = 'dall-e-9'\n")
    server = launch(tmp_path / "d2", config=config)
    assert server.process.wait(60) == 2
    assert "unknown profile 'dall-e-9'" in server.log()


@pytest.fixture(scope="module")
def failing(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("failing")
    config = (
        "[deployments.dall-e-2]\nengine = 'tests.engines_for_tests:FailingEngine'\n"
        "[deployments.dall-e-3]\nprofile = 'dall-e-3'\n"
        "engine = 'tests.engines_for_tests:FailingEngine'\n"
        "[deployments.batched]\nengine = 'tests.engines_for_tests:FailingEngine'\n"
        "[deployments.batched.options]\nbatch_window_s = 1.0\n"
    )
    with start_server(tmp, config=config) as server:
        yield server


def _finish(location: str) -> dict:
    for _ in range(200):
        body = httpx.get(location).json()
        if body["status"] in ("succeeded", "failed"):
            return body
        time.sleep(0.05)
    raise AssertionError(body)


@pytest.mark.parametrize(
    ("prompt", "code", "words"),
    [
        ("a forbidden thing", "content_policy_violation", "safety system"),
        ("explode please", "generationFailed", "ran out of memory"),
        ("crash please", "internalFailure", "unexpected bug"),
    ],
)
def test_engine_failures_become_failed_operations(failing, prompt, code, words):
    submitted = httpx.post(failing.url + ASYNC, json={"prompt": prompt, "size": "256x256"})
    body = _finish(submitted.headers["operation-location"])
    assert body["status"] == "failed"
    assert body["error"]["code"] == code
    assert words in body["error"]["message"]
    assert "result" not in body


def test_engine_failures_on_the_sync_route_keep_their_status(failing):
    url = f"{failing.url}/openai/deployments/dall-e-3/images/generations?api-version=2024-10-21"
    refused = httpx.post(url, json={"prompt": "a forbidden thing"})
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["code"] == "content_policy_violation"
    assert error["inner_error"]["code"] == "ResponsibleAIPolicyViolation"
    failed = httpx.post(url, json={"prompt": "explode please"})
    assert failed.status_code == 500
    assert failed.json()["error"]["code"] == "generationFailed"
    assert httpx.get(f"{failing.url}/healthz").status_code == 200


def test_one_refused_request_does_not_fail_the_others_in_its_batch(failing):
    bodies = [{"prompt": p, "size": "256x256", "model": "batched"} for p in ("forbidden", "fine")]
    locations = [
        httpx.post(failing.url + ASYNC, json=body).headers["operation-location"] for body in bodies
    ]
    refused, drawn = (_finish(location) for location in locations)
    assert refused["status"] == "failed"
    assert refused["error"]["code"] == "content_policy_violation"
    assert drawn["status"] == "succeeded"
    assert len(drawn["result"]["data"]) == 1
    metrics = httpx.get(f"{failing.url}/metrics").text
    assert 'gouache_batches_total{deployment="batched"} 1.0' in metrics
