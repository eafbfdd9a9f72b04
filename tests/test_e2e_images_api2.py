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
    "path",
    ["/openai/v1/images/generations?api-version=v1", "/openai/images/generations?api-version=v1"],
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


def png_bytes(size: tuple[int, int], colour=(200, 40, 40, 255), mode: str = "RGBA") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, colour[: len(mode)]).save(buffer, "PNG")
    return buffer.getvalue()


def hole_mask(size: tuple[int, int]) -> bytes:
    """Opaque everywhere except a transparent square in the middle: edit only there."""
    mask = Image.new("RGBA", size, (0, 0, 0, 255))
    width, height = size
    mask.paste((0, 0, 0, 0), (width // 4, height // 4, 3 * width // 4, 3 * height // 4))
    buffer = io.BytesIO()
    mask.save(buffer, "PNG")
    return buffer.getvalue()


def test_openai_edit_with_one_image_and_a_mask(server):
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEY, max_retries=0)
    result = client.images.edit(
        model="dall-e-2",
        image=("photo.png", png_bytes((512, 512)), "image/png"),
        mask=("mask.png", hole_mask((512, 512)), "image/png"),
        prompt="a blue ball",
        n=3,
        size="512x512",
    )
    assert len(result.data) == 3
    for item in result.data:
        image = download(item.url)
        assert (image.format, image.size) == ("PNG", (512, 512))
        # outside the transparent square the input is kept
        assert image.convert("RGB").getpixel((5, 5)) == (200, 40, 40)


def test_openai_edit_with_two_images(server):
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEY, max_retries=0)
    result = client.images.edit(
        model="gpt-image-1",
        image=[
            ("mug.png", png_bytes((640, 640), (250, 250, 250, 255)), "image/png"),
            ("logo.png", png_bytes((200, 200), (20, 20, 160, 0)), "image/png"),
        ],
        prompt="the mug with the logo, on a desk",
        size="1536x1024",
        output_format="jpeg",
        n=2,
    )
    assert len(result.data) == 2
    assert result.output_format == "jpeg"
    for item in result.data:
        image = decoded(base64.b64decode(item.b64_json))
        assert (image.format, image.size) == ("JPEG", (1536, 1024))


def test_openai_create_variation(server):
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEY, max_retries=0)
    result = client.images.create_variation(
        image=("photo.png", png_bytes((256, 256)), "image/png"),
        n=2,
        size="256x256",
        response_format="b64_json",
    )
    assert len(result.data) == 2
    for item in result.data:
        image = decoded(base64.b64decode(item.b64_json))
        assert (image.format, image.size) == ("PNG", (256, 256))


def test_azure_client_edit_on_2025_04_01_preview(server):
    client = openai.AzureOpenAI(
        azure_endpoint=server.url, api_key=KEY, api_version="2025-04-01-preview", max_retries=0
    )
    result = client.images.edit(
        model="gpt-image-1",
        image=("photo.png", png_bytes((1024, 1024)), "image/png"),
        mask=("mask.png", hole_mask((1024, 1024)), "image/png"),
        prompt="a red mug on a desk",
        size="1024x1024",
    )
    (item,) = result.data
    image = decoded(base64.b64decode(item.b64_json))
    assert (image.format, image.size) == ("PNG", (1024, 1024))
    with pytest.raises(openai.BadRequestError) as refused:
        client.images.edit(
            model="gpt-image-1",
            image=("photo.png", png_bytes((1024, 1024)), "image/png"),
            mask=("mask.png", hole_mask((512, 512)), "image/png"),
            prompt="x",
        )
    assert refused.value.code == "invalid_mask"


def read_stream(stream, prefix: str) -> tuple[list, list]:
    partials, completed = [], []
    for event in stream:
        assert event.type in (f"{prefix}.partial_image", f"{prefix}.completed"), event.type
        (partials if event.type.endswith("partial_image") else completed).append(event)
    return partials, completed


def test_streamed_generation_with_partial_images(server):
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEY, max_retries=0)
    stream = client.images.generate(
        model="gpt-image-1",
        prompt="a red running shoe on a white background",
        stream=True,
        partial_images=2,
        size="1024x1536",
    )
    partials, completed = read_stream(stream, "image_generation")
    assert 1 <= len(partials) <= 2
    assert [event.partial_image_index for event in partials] == list(range(len(partials)))
    (final,) = completed
    assert final.usage is not None
    image = decoded(base64.b64decode(final.b64_json))
    assert (image.format, image.size) == ("PNG", (1024, 1536))
    for event in partials:
        preview = decoded(base64.b64decode(event.b64_json))
        assert preview.size == (1024, 1536)
        assert event.b64_json != final.b64_json


def test_streamed_edit_with_partial_images(server):
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEY, max_retries=0)
    stream = client.images.edit(
        model="gpt-image-1",
        image=("photo.png", png_bytes((1024, 1024)), "image/png"),
        mask=("mask.png", hole_mask((1024, 1024)), "image/png"),
        prompt="a blue ball",
        stream=True,
        partial_images=2,
        output_format="webp",
    )
    partials, completed = read_stream(stream, "image_edit")
    assert partials
    (final,) = completed
    image = decoded(base64.b64decode(final.b64_json))
    assert (image.format, image.size) == ("WEBP", (1024, 1024))
