"""End to end: a real `gouache serve` process, driven by the official openai package and plain HTTP."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time

import httpx
import openai
import pytest

from tests.conftest import png_size
from tests.server import free_port, launch, start_server, stop, wait_ready

pytestmark = pytest.mark.e2e

KEY = "e2e-secret-key"
ASYNC = "/openai/images/generations:submit?api-version=2023-06-01-preview"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e")
    with start_server(tmp, env={"GOUACHE_API_KEYS": KEY}, args=["--engine", "instant"]) as running:
        yield running


def _download(url: str) -> bytes:
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200
    return response.content


def test_openai_client_against_v1(server):
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEY)
    result = client.images.generate(model="dall-e-2", prompt="a red shoe", n=3, size="512x512")
    assert len(result.data) == 3
    for image in result.data:
        assert png_size(_download(image.url)) == (512, 512)
    models = {model.id for model in client.models.list()}
    assert models == {"dall-e-2", "dall-e-3", "gpt-image-1"}


def test_openai_client_b64_and_gpt_image(server):
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEY)
    result = client.images.generate(
        model="gpt-image-1", prompt="a brand background", size="1536x1024", n=2
    )
    assert len(result.data) == 2
    for image in result.data:
        assert png_size(base64.b64decode(image.b64_json)) == (1536, 1024)
    assert result.output_format == "png"


def test_azure_client_against_the_deployments_route(server):
    client = openai.AzureOpenAI(
        azure_endpoint=server.url, api_key=KEY, api_version="2024-10-21", max_retries=0
    )
    result = client.images.generate(
        model="dall-e-3", prompt="a lighthouse at dusk", size="1792x1024", quality="hd"
    )
    (image,) = result.data
    assert png_size(_download(image.url)) == (1792, 1024)
    assert image.revised_prompt


def test_azure_client_errors_map_to_sdk_exceptions(server):
    client = openai.AzureOpenAI(
        azure_endpoint=server.url, api_key=KEY, api_version="2024-10-21", max_retries=0
    )
    with pytest.raises(openai.BadRequestError) as bad:
        client.images.generate(model="dall-e-3", prompt="x", size="256x256")
    assert bad.value.code == "invalid_value"
    assert "1024x1024" in bad.value.message
    with pytest.raises(openai.NotFoundError):
        client.images.generate(model="no-such-deployment", prompt="x")
    wrong = openai.AzureOpenAI(
        azure_endpoint=server.url, api_key="nope", api_version="2024-10-21", max_retries=0
    )
    with pytest.raises(openai.AuthenticationError):
        wrong.images.generate(model="dall-e-3", prompt="x")


def test_azure_preview_gpt_image_jpeg(server):
    client = openai.AzureOpenAI(
        azure_endpoint=server.url, api_key=KEY, api_version="2025-04-01-preview", max_retries=0
    )
    result = client.images.generate(
        model="gpt-image-1", prompt="a mug", output_format="jpeg", output_compression=80
    )
    data = base64.b64decode(result.data[0].b64_json)
    assert data[:3] == b"\xff\xd8\xff"


def test_submit_and_poll_with_plain_http(server):
    headers = {"api-key": KEY}
    submitted = httpx.post(
        server.url + ASYNC,
        json={"prompt": "three red circles", "n": 5, "size": "256x256", "user": "e2e-user"},
        headers=headers,
    )
    assert submitted.status_code == 202
    location = submitted.headers["operation-location"]
    assert location.startswith(server.url + "/openai/operations/images/")
    for _ in range(200):
        polled = httpx.get(location, headers=headers)
        body = polled.json()
        if body["status"] == "succeeded":
            break
        assert polled.headers["retry-after"] == "1"
        time.sleep(0.05)
    assert body["status"] == "succeeded"
    urls = [item["url"] for item in body["result"]["data"]]
    assert len(urls) == 5
    assert all(png_size(_download(url)) == (256, 256) for url in urls)
    assert httpx.delete(location, headers=headers).status_code == 204
    assert httpx.get(urls[0]).status_code in (403, 404)


def test_metrics_are_prometheus_text(server):
    text = httpx.get(f"{server.url}/metrics").text
    assert "gouache_requests_total" in text
    assert 'gouache_operations{status="notRunning"}' in text
    assert 'gouache_operations_finished_total{deployment="dall-e-2",status="succeeded"}' in text
    assert "gouache_queue_depth" in text
    assert "gouache_generation_seconds_bucket" in text


def test_refuses_public_address_without_keys(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOUACHE_")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "gouache.cli.main",
            "serve",
            "--host",
            "0.0.0.0",
            "--port",
            str(free_port()),
            "--data-dir",
            str(tmp_path / "d"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 2
    assert "refusing to listen on 0.0.0.0 without API keys" in result.stderr
    assert "--insecure-no-auth" in result.stderr


def test_second_server_on_the_same_data_dir_is_refused(server, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOUACHE_")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "gouache.cli.main",
            "serve",
            "--port",
            str(free_port()),
            "--data-dir",
            str(server.data_dir),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 2
    assert "already using the data dir" in result.stderr


CRASH_CONFIG = """
[server]
queue_max = 100
[deployments.dall-e-2]
profile = "dall-e-2"
engine = "instant"
[deployments.dall-e-2.options]
delay_s = {delay}
max_batch_images = 2
"""


def test_sigkill_loses_no_accepted_operation(tmp_path):
    """Submit, kill -9 the server mid-work, restart: every accepted operation succeeds."""
    data_dir = tmp_path / "data"
    slow = tmp_path / "slow.toml"
    slow.write_text(CRASH_CONFIG.format(delay=0.4))
    server = launch(data_dir, config=slow)
    try:
        wait_ready(server)
        ids = []
        for index in range(8):
            response = httpx.post(
                server.url + ASYNC, json={"prompt": f"crash {index}", "n": 2, "size": "256x256"}
            )
            assert response.status_code == 202
            ids.append(response.json()["id"])
        time.sleep(0.5)  # one is running, the rest are queued
        statuses = {
            httpx.get(
                f"{server.url}/openai/operations/images/{i}?api-version=2023-06-01-preview"
            ).json()["status"]
            for i in ids
        }
        assert "notRunning" in statuses
    finally:
        server.kill()

    fast = tmp_path / "fast.toml"
    fast.write_text(CRASH_CONFIG.format(delay=0))
    restarted = launch(data_dir, config=fast, port=server.port)
    try:
        wait_ready(restarted)
        deadline = time.monotonic() + 30
        pending = set(ids)
        while pending and time.monotonic() < deadline:
            for operation_id in list(pending):
                body = httpx.get(
                    f"{restarted.url}/openai/operations/images/{operation_id}?api-version=2023-06-01-preview"
                ).json()
                assert body["status"] != "failed", body
                if body["status"] == "succeeded":
                    assert len(body["result"]["data"]) == 2
                    for item in body["result"]["data"]:
                        assert png_size(_download(item["url"])) == (256, 256)
                    pending.discard(operation_id)
            time.sleep(0.1)
        assert not pending
    finally:
        stop(restarted)


def test_usage_command_counts_per_user(server):
    headers = {"api-key": KEY}
    for user, n in (("usage-a", 2), ("usage-a", 3), ("usage-b", 1)):
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEY)
        client.images.generate(model="dall-e-2", prompt="x", n=n, size="256x256", user=user)
    del headers
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "gouache.cli.main",
            "usage",
            "--data-dir",
            str(server.data_dir),
            "--since",
            "1h",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    import json

    rows = {row["user"]: row for row in json.loads(result.stdout)}
    assert rows["usage-a"]["operations"] == 2
    assert rows["usage-a"]["images_made"] == 5
    assert rows["usage-b"]["images_made"] == 1
    table = subprocess.run(
        [sys.executable, "-m", "gouache.cli.main", "usage", "--data-dir", str(server.data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    assert "usage-a" in table and "images made" in table


def test_default_server_draws_with_the_builtin_engine(tmp_path):
    with start_server(tmp_path) as server:
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused")
        result = client.images.generate(
            model="dall-e-3", prompt="a puppy on the left", size="1792x1024"
        )
        (image,) = result.data
        assert png_size(_download(image.url)) == (1792, 1024)
        assert "dog" in image.revised_prompt
        ready = httpx.get(f"{server.url}/readyz").json()
        assert {d["engine"] for d in ready["deployments"].values()} == {"builtin"}
