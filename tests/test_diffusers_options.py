"""Options of the diffusers engine: checked at construction, without torch."""

from __future__ import annotations

import pytest

from gouache.engines.diffusers_options import FAMILIES, guess_family, parse_options
from gouache.errors import ConfigError


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, "options.model"),
        ({"model": "x", "dtype": "fp8"}, "dtype"),
        ({"model": "x", "sizes": ["500x500"]}, "multiples of 8"),
        ({"model": "x", "stepz": 2}, "stepz"),
        ({"model": "x", "compile": "yes"}, "compile"),
    ],
)
def test_bad_options_are_refused_at_construction(options: dict, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        parse_options(options)


def test_defaults_are_left_to_setup() -> None:
    options = parse_options({"model": "/models/sd-turbo"})
    assert options.device is None and options.dtype is None and options.family is None
    assert options.max_batch_images == 8 and options.batch_window_s == 0.05
    assert options.sdpa and not options.fuse_qkv and not options.compile


@pytest.mark.parametrize(
    ("pipeline_class", "model", "cross_attention_dim", "family"),
    [
        ("StableDiffusionXLPipeline", "/models/sdxl-turbo", 2048, "sdxl-turbo"),
        ("StableDiffusionXLPipeline", "stabilityai/stable-diffusion-xl-base-1.0", 2048, "sdxl"),
        ("StableDiffusionPipeline", "stabilityai/sd-turbo", 1024, "sd-turbo"),
        ("StableDiffusionPipeline", "/models/sd-2-1", 1024, "sd21"),
        ("StableDiffusionPipeline", "/models/sd-1-5", 768, "sd15"),
    ],
)
def test_family_is_guessed_from_the_pipeline(
    pipeline_class: str, model: str, cross_attention_dim: int, family: str
) -> None:
    guessed = guess_family(pipeline_class, model, {"cross_attention_dim": cross_attention_dim})
    assert guessed == family
    assert guessed in FAMILIES
