"""Where deck pictures are made: endpoint resolution, sizes per deployment, seeds for Azure."""

from __future__ import annotations

import pytest
from PIL import Image

from gouache.decks.pictures import crop_to_fill
from gouache.decks.target import Target, nearest_size

DALL_E_3 = ("1024x1024", "1792x1024", "1024x1792")


def test_in_process_unless_an_endpoint_is_given_or_set():
    assert Target(environ={}).resolved().endpoint is None
    env = {"AZURE_OPENAI_ENDPOINT": "https://acme.openai.azure.com", "AZURE_OPENAI_API_KEY": "k"}
    remote = Target(environ=env).resolved()
    assert (remote.endpoint, remote.api_key, remote.api_version) == (
        "https://acme.openai.azure.com",
        "k",
        "2024-10-21",
    )
    assert Target(environ=env, local=True).resolved().endpoint is None
    pinned = Target(environ={**env, "OPENAI_API_VERSION": "2024-02-01"}).resolved()
    assert pinned.api_version == "2024-02-01"


def test_azure_gets_no_seed_and_a_gouache_server_does():
    assert not Target(endpoint="https://acme.openai.azure.com", environ={}).resolved().sends_seed
    assert Target(endpoint="http://127.0.0.1:8000", environ={}).resolved().sends_seed
    assert Target(environ={}).resolved().sends_seed


def test_deployment_rules():
    assert Target(environ={}).sizes == DALL_E_3
    assert Target(deployment="dall-e-2", environ={}).prompt_max == 1000
    assert Target(deployment="gpt-image-1", environ={}).sizes == (
        "1024x1024",
        "1536x1024",
        "1024x1536",
    )
    # an unknown deployment name gets what every image deployment takes
    custom = Target(deployment="our-sdxl", environ={})
    assert "1024x1024" in custom.sizes and custom.prompt_max == 1000


def test_size_candidates_for_known_and_custom_deployments():
    wide = 16 / 9
    assert Target(environ={}).size_candidates(wide) == ["1792x1024", "1024x1024"]
    assert Target(deployment="dall-e-2", environ={}).size_candidates(wide) == ["1024x1024"]
    # a custom name: each family's wide size in turn, then the square
    custom = Target(deployment="our-images", environ={})
    assert custom.size_candidates(wide) == ["1792x1024", "1536x1024", "1024x1024"]
    assert custom.size_candidates(9 / 16) == ["1024x1792", "1024x1536", "1024x1024"]
    assert custom.size_candidates(1.0) == ["1024x1024"]


@pytest.mark.parametrize(
    ("aspect", "size"),
    [
        (16 / 9, "1792x1024"),
        (0.889, "1024x1024"),
        (9 / 16, "1024x1792"),
        (1.2, "1024x1024"),
        (1500 / 500, "1792x1024"),
    ],
)
def test_nearest_size(aspect, size):
    assert nearest_size(aspect, DALL_E_3) == size


@pytest.mark.parametrize(
    ("size", "aspect"),
    [((1024, 1024), 16 / 9), ((1792, 1024), 0.889), ((1024, 1792), 1.0), ((1000, 500), 2.0)],
)
def test_crop_to_fill_keeps_the_centre_at_the_exact_aspect(size, aspect):
    image = Image.new("RGB", size, "white")
    image.putpixel((size[0] // 2, size[1] // 2), (255, 0, 0))
    cropped = crop_to_fill(image, aspect)
    assert cropped.width / cropped.height == pytest.approx(aspect, rel=0.002)
    assert cropped.width == size[0] or cropped.height == size[1]  # the largest such part
    assert (255, 0, 0) in [colour for _, colour in cropped.getcolors()]
