"""The forwarding engine between two real `gouache serve` processes.

The upstream is a plain gouache with its built-in engine; the downstream has one forward deployment per upstream wire style. Everything is
driven from the outside as a user would: official `openai` client and plain HTTP, images downloaded
and decoded. The wire details and each error mapping are pinned separately, against scripted
answers, in tests/test_forward_errors.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from tests.server import RunningServer, download_png_sizes, free_port, start_server

pytestmark = pytest.mark.e2e


def _forward(name: str, sizes: list[str] | None = None, workers: int = 1, **options: str) -> str:
    lines = [f"[deployments.{name}]", 'profile = "dall-e-2"', 'engine = "forward"']
    lines.append(f"workers = {workers}")
    if sizes:
        lines.append("sizes = [" + ", ".join(f'"{s}"' for s in sizes) + "]")
    lines.append(f"[deployments.{name}.options]")
    lines += [f'{key} = "{value}"' for key, value in options.items()]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def chain(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[RunningServer, RunningServer]]:
    folder = tmp_path_factory.mktemp("forward-chain")
    with start_server(folder, env={"GOUACHE_API_KEYS": "upstream-secret"}) as upstream:
        config = (
            _forward(
                "via-azure",
                api="azure",
                endpoint=upstream.url,
                deployment="dall-e-2",
                api_key_env="UPSTREAM_KEY",
            )
            + _forward(
                "via-async", api="azure-async", endpoint=upstream.url, api_key_env="UPSTREAM_KEY"
            )
            + _forward(
                "via-openai",
                api="openai",
                endpoint=upstream.url,
                model="dall-e-2",
                api_key_env="UPSTREAM_KEY",
            )
            # Accepts 320x320 here, which the upstream's dall-e-2 deployment refuses.
            + _forward(
                "too-wide",
                sizes=["256x256", "320x320"],
                api="azure",
                endpoint=upstream.url,
                deployment="dall-e-2",
                api_key_env="UPSTREAM_KEY",
            )
            + _forward(
                "wrong-key",
                api="openai",
                endpoint=upstream.url,
                model="dall-e-2",
                api_key="not-the-key",
            )
            + _forward("nobody-home", api="openai", endpoint=f"http://127.0.0.1:{free_port()}")
        )
        with start_server(folder, config=config, env={"UPSTREAM_KEY": "upstream-secret"}) as down:
            yield upstream, down


def test_openai_style_upstream(chain: tuple[RunningServer, RunningServer]) -> None:
    _, down = chain
    client = openai.OpenAI(base_url=f"{down.url}/v1", api_key="unused", max_retries=0)
    result = client.images.generate(model="via-openai", prompt="a red apple", n=2, size="256x256")
    assert download_png_sizes([item.url for item in result.data]) == [(256, 256)] * 2
    # The links are the downstream's own, not the upstream's.
    assert all(item.url.startswith(down.url) for item in result.data)


def test_azure_deployments_style_upstream(chain: tuple[RunningServer, RunningServer]) -> None:
    _, down = chain
    client = openai.AzureOpenAI(
        azure_endpoint=down.url, api_key="unused", api_version="2024-10-21", max_retries=0
    )
    result = client.images.generate(model="via-azure", prompt="a blue boat", n=3, size="512x512")
    assert download_png_sizes([item.url for item in result.data]) == [(512, 512)] * 3


def test_azure_async_style_upstream(chain: tuple[RunningServer, RunningServer]) -> None:
    _, down = chain
    version = {"api-version": "2023-06-01-preview"}
    submitted = httpx.post(
        f"{down.url}/openai/images/generations:submit",
        params=version,
        json={"prompt": "a green kite", "n": 2, "size": "256x256", "model": "via-async"},
    )
    assert submitted.status_code == 202, submitted.text
    location = submitted.headers["operation-location"]
    deadline = time.monotonic() + 60
    while (operation := httpx.get(location).json())["status"] not in ("succeeded", "failed"):
        assert time.monotonic() < deadline, operation
        time.sleep(0.2)
    assert operation["status"] == "succeeded", operation
    urls = [item["url"] for item in operation["result"]["data"]]
    assert download_png_sizes(urls) == [(256, 256)] * 2
    assert all(url.startswith(down.url) for url in urls)


def test_upstream_validation_error_reaches_the_client(
    chain: tuple[RunningServer, RunningServer],
) -> None:
    _, down = chain
    client = openai.OpenAI(base_url=f"{down.url}/v1", api_key="unused", max_retries=0)
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.generate(model="too-wide", prompt="a cat", size="320x320")
    assert caught.value.status_code == 400
    assert "320x320" in caught.value.message and "256x256" in caught.value.message
    assert caught.value.param == "size"


def test_upstream_refusing_our_key_is_a_502_naming_it(
    chain: tuple[RunningServer, RunningServer],
) -> None:
    upstream, down = chain
    response = httpx.post(
        f"{down.url}/v1/images/generations",
        json={"model": "wrong-key", "prompt": "a cat", "size": "256x256"},
        timeout=60,
    )
    assert response.status_code == 502, response.text
    assert upstream.url in response.json()["error"]["message"]


def test_unreachable_upstream_is_a_502_naming_it(
    chain: tuple[RunningServer, RunningServer],
) -> None:
    _, down = chain
    response = httpx.post(
        f"{down.url}/v1/images/generations",
        json={"model": "nobody-home", "prompt": "a cat", "size": "256x256"},
        timeout=60,
    )
    assert response.status_code == 502, response.text
    assert "cannot reach the upstream" in response.json()["error"]["message"]


def test_upstream_429_keeps_its_retry_after(tmp_path: Path) -> None:
    upstream_config = """
[server]
queue_max = 1
retry_after_s = 7

[deployments.slow]
profile = "dall-e-2"
engine = "instant"
[deployments.slow.options]
delay_s = 6
"""
    with start_server(tmp_path, config=upstream_config) as upstream:
        # the upstream's one queue place is taken by an operation that runs for 6 s, so the
        # forwarded request meets a full queue however slowly this machine starts it
        held = httpx.post(
            f"{upstream.url}/openai/images/generations:submit?api-version=2023-06-01-preview",
            json={"model": "slow", "prompt": "a slow snail", "size": "256x256"},
            timeout=60,
        )
        assert held.status_code == 202, held.text
        config = _forward("busy", api="openai", endpoint=upstream.url, model="slow")
        with start_server(tmp_path, config=config) as down:
            refused = httpx.post(
                f"{down.url}/v1/images/generations",
                json={"model": "busy", "prompt": "a slow snail", "size": "256x256"},
                timeout=60,
            )
        still = httpx.get(held.headers["operation-location"], timeout=60).json()["status"]
    assert still in ("notRunning", "running"), "the held operation ended before the test ran"
    assert refused.status_code == 429, refused.text
    assert refused.headers["retry-after"] == "7"
