"""End to end: a streamed generation from a real `gouache serve` (built-in engine), read with the
official openai package, previews the painting as it comes together, not the finished image."""

from __future__ import annotations

import base64
import io

import numpy as np
import openai
import pytest
from PIL import Image

from tests.server import start_server

pytestmark = pytest.mark.e2e

KEY = "e2e-layers-key"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e-layers")
    with start_server(tmp, env={"GOUACHE_API_KEYS": KEY}) as running:
        yield running


def decoded(b64: str) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(b64)))
    image.load()
    return image


def test_streamed_generation_previews_its_layers(server):
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEY, max_retries=0)
    stream = client.images.generate(
        model="gpt-image-1",
        prompt="three cats and a dog in a park in the rain",
        stream=True,
        partial_images=3,
        size="1536x1024",
    )
    partials, completed = [], []
    for event in stream:
        assert event.type in ("image_generation.partial_image", "image_generation.completed")
        (partials if event.type.endswith("partial_image") else completed).append(event)
    (final_event,) = completed
    final = decoded(final_event.b64_json)
    assert (final.format, final.size) == ("PNG", (1536, 1024))
    assert [event.partial_image_index for event in partials] == [0, 1, 2]
    target = np.asarray(final.convert("RGB"), dtype=np.int16)
    distances = []
    for event in partials:
        preview = decoded(event.b64_json)
        assert (preview.format, preview.size) == ("PNG", (1536, 1024))
        pixels = np.asarray(preview.convert("RGB"), dtype=np.int16)
        assert not np.array_equal(pixels, target)
        distances.append(float(np.abs(pixels - target).mean()))
    # The scene, then figures, then all but the rain: each closer to the finished picture.
    assert distances == sorted(distances, reverse=True) and len(set(distances)) == 3
