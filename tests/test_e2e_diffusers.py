"""`gouache serve` with a diffusers deployment over a tiny random Stable Diffusion model folder.

Drives the real server process with the official `openai` client and plain HTTP: n and size
honoured (images downloaded and decoded), concurrent requests drawn in shared pipeline calls, an
unsupported size refused with a clear 400, and a bad model path stopping the server at start.
"""

from __future__ import annotations

import concurrent.futures
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

pytest.importorskip("torch", reason="needs the diffusers extra: pip install 'gouache[diffusers]'")
pytest.importorskip(
    "diffusers", reason="needs the diffusers extra: pip install 'gouache[diffusers]'"
)


from tests.server import RunningServer, download_png_sizes, start_server  # noqa: E402
from tests.tiny_diffusers import build_tiny_pipeline  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.diffusers]


def config_for(model: Path | str, sizes: str = '"64x64", "32x32"') -> str:
    return f"""
[deployments.tiny]
profile = "dall-e-2"
engine = "diffusers"
sizes = [{sizes}]
max_n = 4

[deployments.tiny.options]
model = "{model}"
device = "cpu"
sizes = ["64x64", "32x32"]
steps = 2
guidance = 0.0
max_batch_images = 8
batch_window_s = 0.5
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    folder = tmp_path_factory.mktemp("e2e-diffusers")
    model = build_tiny_pipeline(folder / "model")
    with start_server(folder, config=config_for(model)) as running:
        yield running


def _metric(text: str, name: str) -> float:
    match = re.search(rf'^{name}{{deployment="tiny"}} (\S+)$', text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_n_and_size_through_the_openai_client(server: RunningServer) -> None:
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
    result = client.images.generate(model="tiny", prompt="a red apple", n=3, size="64x64")
    assert download_png_sizes([item.url for item in result.data]) == [(64, 64)] * 3
    result = client.images.generate(model="tiny", prompt="a red apple", n=1, size="32x32")
    assert download_png_sizes([item.url for item in result.data]) == [(32, 32)]


def test_concurrent_requests_share_pipeline_calls(server: RunningServer) -> None:
    before = httpx.get(f"{server.url}/metrics").text

    def ask(index: int) -> httpx.Response:
        return httpx.post(
            f"{server.url}/openai/deployments/tiny/images/generations",
            params={"api-version": "2024-10-21"},
            json={"prompt": f"a lighthouse number {index}", "n": 2, "size": "64x64"},
            timeout=120,
        )

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        responses = list(pool.map(ask, range(4)))
    assert [r.status_code for r in responses] == [200] * 4, [r.text for r in responses]
    urls = [item["url"] for r in responses for item in r.json()["data"]]
    assert download_png_sizes(urls) == [(64, 64)] * 8
    after = httpx.get(f"{server.url}/metrics").text
    batches = _metric(after, "gouache_batches_total") - _metric(before, "gouache_batches_total")
    images = _metric(after, "gouache_batch_images_sum") - _metric(
        before, "gouache_batch_images_sum"
    )
    assert images == 8
    assert batches < 4, f"4 concurrent requests took {batches} engine calls"
    # The engine logs each pipeline call; at least one drew several requests.
    calls = re.findall(r"batch of (\d+) requests, (\d+) images", server.log())
    assert any(int(requests) > 1 for requests, _ in calls), calls


def test_size_the_deployment_does_not_offer_is_a_clear_400(server: RunningServer) -> None:
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.generate(model="tiny", prompt="a red apple", size="256x256")
    assert "256x256" in caught.value.message and "64x64" in caught.value.message
    assert caught.value.param == "size"


def test_offering_a_size_the_model_cannot_draw_stops_the_server(tmp_path: Path) -> None:
    model = build_tiny_pipeline(tmp_path / "model")
    config = config_for(model, sizes='"64x64", "32x32", "256x256"')
    with start_server(tmp_path, config=config, wait=False) as running:
        code = running.process.wait(120)
        log = running.log()
    assert code == 1
    assert "256x256" in log and "cannot draw" in log
    assert "set sizes = ['64x64', '32x32']" in log


def test_bad_model_path_stops_the_server(tmp_path: Path) -> None:
    missing = tmp_path / "no-model-here"
    with start_server(tmp_path, config=config_for(missing), wait=False) as running:
        code = running.process.wait(120)
        log = running.log()
    assert code != 0
    assert str(missing) in log
    assert "does not exist" in log
