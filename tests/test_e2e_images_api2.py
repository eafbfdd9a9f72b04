"""End to end for the newer image API surface: a real `gouache serve` (built-in engine) driven by
the official openai package and plain HTTP, checking every returned image's format, size, count."""

from __future__ import annotations

import base64
import io

import httpx
import openai
import pytest
from PIL import Image

from tests.server import start_server

pytestmark = pytest.mark.e2e

KEY = "e2e-api2-key"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e-api2")
    with start_server(tmp, env={"GOUACHE_API_KEYS": KEY}) as running:
        yield running


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def download(url: str) -> Image.Image:
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200
    return decoded(response.content)


def test_azure_client_on_api_version_2025_08_28(server):
    client = openai.AzureOpenAI(
        azure_endpoint=server.url, api_key=KEY, api_version="2025-08-28", max_retries=0
    )
    result = client.images.generate(
        model="gpt-image-1", prompt="a mug on a desk", size="1536x1024", n=2, quality="low"
    )
    assert len(result.data) == 2
    for item in result.data:
        image = decoded(base64.b64decode(item.b64_json))
        assert (image.format, image.size) == ("PNG", (1536, 1024))


def test_openai_client_on_the_azure_v1_surface(server):
    client = openai.OpenAI(
        base_url=f"{server.url}/openai/v1",
        api_key=KEY,
        default_query={"api-version": "preview"},
        max_retries=0,
    )
    result = client.images.generate(
        model="dall-e-2", prompt="a red shoe", n=10, size="256x256", safety_identifier="u-1"
    )
    assert len(result.data) == 10
    for item in result.data:
        assert download(item.url).size == (256, 256)


@pytest.mark.parametrize(
    "path", ["/openai/v1/images/generations?api-version=v1", "/openai/images/generations?api-version=v1"]
)
def test_the_paths_of_the_vercel_ai_sdk_create_azure(server, path):
    """What createAzure sends: the deployment in `model`, b64_json for DALL-E models."""
    response = httpx.post(
        f"{server.url}{path}",
        headers={"api-key": KEY},
        json={
            "model": "dall-e-3",
            "prompt": "a lighthouse",
            "n": 1,
            "size": "1024x1024",
            "response_format": "b64_json",
        },
        timeout=30,
    )
    assert response.status_code == 200, response.text
    (item,) = response.json()["data"]
    image = decoded(base64.b64decode(item["b64_json"]))
    assert (image.format, image.size) == ("PNG", (1024, 1024))
