"""The diffusers engine over a tiny, randomly initialised Stable Diffusion pipeline on disk.

The pipeline is built once per session (tests/tiny_diffusers.py) and loaded through the engine the
way a deployment loads a real model folder.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

pytest.importorskip(
    "torch", reason="the diffusers engine needs torch: pip install 'gouache[diffusers]'"
)
pytest.importorskip(
    "diffusers", reason="the diffusers engine needs diffusers: pip install 'gouache[diffusers]'"
)

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from gouache.engines import create_engine  # noqa: E402
from gouache.engines.base import ImageRequest  # noqa: E402
from gouache.engines.diffusers import DiffusersEngine  # noqa: E402
from gouache.errors import ConfigError, ContentFiltered, InvalidRequest  # noqa: E402
from tests.tiny_diffusers import build_tiny_pipeline  # noqa: E402

pytestmark = pytest.mark.diffusers

SIZES = ["64x64", "32x32", "64x32"]


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_pipeline(tmp_path_factory.mktemp("tiny-sd") / "model")


@pytest.fixture(scope="module")
def engine(tiny_model: Path) -> DiffusersEngine:
    engine = create_engine(
        "diffusers",
        {"model": str(tiny_model), "device": "cpu", "sizes": SIZES, "steps": 2, "guidance": 0.0},
    )
    assert isinstance(engine, DiffusersEngine)
    engine.setup()
    yield engine
    engine.close()


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.int16)


def _request(**fields) -> ImageRequest:
    values = {"prompt": "a red apple on a table", "n": 1, "size": "64x64", "seed": 7}
    values.update(fields)
    return ImageRequest(**values)


def test_n_and_size_are_honoured(engine: DiffusersEngine) -> None:
    [images] = engine.generate([_request(n=3, size="64x32")])
    assert len(images) == 3
    for image in images:
        decoded = Image.open(io.BytesIO(image.data))
        assert decoded.format == "PNG"
        assert decoded.size == (64, 32)
        assert image.media_type == "image/png"
        assert image.revised_prompt == "a red apple on a table"
    # Three seeds, three different pictures.
    assert len({image.data for image in images}) == 3


def test_output_format_is_honoured(engine: DiffusersEngine) -> None:
    [images] = engine.generate([_request(output_format="jpeg", output_compression=50)])
    assert images[0].media_type == "image/jpeg"
    assert Image.open(io.BytesIO(images[0].data)).format == "JPEG"


def test_a_seed_draws_the_same_image_every_time(engine: DiffusersEngine) -> None:
    [first] = engine.generate([_request(seed=123, n=2)])
    [again] = engine.generate([_request(seed=123, n=2)])
    assert [i.data for i in first] == [i.data for i in again]
    # Image i of a request is seed + i: the second image of seed 123 is the first of seed 124.
    [shifted] = engine.generate([_request(seed=124, n=1)])
    assert shifted[0].data == first[1].data


def test_batching_does_not_change_the_images(
    engine: DiffusersEngine, caplog: pytest.LogCaptureFixture
) -> None:
    alone = engine.generate([_request(seed=11, n=2)])[0]
    other = _request(prompt="a blue bicycle", seed=900, n=2)
    with caplog.at_level(logging.INFO, logger="gouache.engines.diffusers"):
        batched, other_images = engine.generate([other, _request(seed=11, n=2)])[::-1]
    # One pipeline call drew both requests.
    assert "batch of 2 requests, 4 images" in caplog.text
    assert len(batched) == 2 and len(other_images) == 2
    for lone, in_batch in zip(alone, batched, strict=True):
        a, b = _pixels(lone.data), _pixels(in_batch.data)
        # Same starting noise per seed; batch-size-dependent CPU kernels may round a few pixel
        # values one level apart (see the engine's module docstring), nothing more.
        assert np.abs(a - b).max() <= 1
        assert (a != b).mean() < 0.01
    # ... while a different seed is a different picture, so the check above can fail.
    assert np.abs(_pixels(alone[0].data) - _pixels(other_images[0].data)).mean() > 5
    # The same batch twice is bit-for-bit identical.
    again = engine.generate([other, _request(seed=11, n=2)])[1]
    assert [i.data for i in again] == [i.data for i in batched]


def test_unsupported_size_is_refused(engine: DiffusersEngine) -> None:
    assert engine.supported_sizes() == tuple(SIZES)
    with pytest.raises(InvalidRequest) as caught:
        engine.generate([_request(size="1024x1024")])
    assert caught.value.param == "size"
    assert "1024x1024" in caught.value.message and "64x64" in caught.value.message


def test_transparent_background_is_refused(engine: DiffusersEngine) -> None:
    with pytest.raises(InvalidRequest) as caught:
        engine.generate([_request(background="transparent")])
    assert caught.value.param == "background"


def test_batch_key_separates_what_changes_the_pipeline_call(engine: DiffusersEngine) -> None:
    assert engine.batch_key(_request(output_format="jpeg")) == engine.batch_key(_request())
    assert engine.batch_key(_request(size="32x32")) != engine.batch_key(_request())


def test_describe_reports_the_loaded_model(engine: DiffusersEngine, tiny_model: Path) -> None:
    described = engine.describe()
    assert described["model"] == str(tiny_model)
    assert described["device"] == "cpu" and described["dtype"] == "float32"
    assert described["steps"] == 2 and described["family"] == "sd15"
    assert described["batches"] >= 1


def test_missing_model_folder_is_a_config_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    engine = create_engine("diffusers", {"model": str(missing), "device": "cpu"})
    with pytest.raises(ConfigError) as caught:
        engine.setup()
    assert str(missing) in caught.value.message


def test_folder_without_model_index_is_a_config_error(tmp_path: Path) -> None:
    engine = create_engine("diffusers", {"model": str(tmp_path), "device": "cpu"})
    with pytest.raises(ConfigError, match="model_index.json"):
        engine.setup()


def test_unknown_scheduler_is_a_config_error(tiny_model: Path) -> None:
    engine = create_engine(
        "diffusers", {"model": str(tiny_model), "device": "cpu", "scheduler": "FastestScheduler"}
    )
    with pytest.raises(ConfigError, match="FastestScheduler"):
        engine.setup()


def test_scheduler_and_quality_steps_options(tiny_model: Path) -> None:
    engine = create_engine(
        "diffusers",
        {
            "model": str(tiny_model),
            "device": "cpu",
            "sizes": ["32x32"],
            "steps": 2,
            "quality_steps": {"low": 1},
            "scheduler": "EulerAncestralDiscreteScheduler",
            "warmup": False,
        },
    )
    engine.setup()
    assert type(engine._pipeline.scheduler).__name__ == "EulerAncestralDiscreteScheduler"
    low = _request(size="32x32", quality="low")
    assert engine.batch_key(low) != engine.batch_key(_request(size="32x32"))
    [images] = engine.generate([low])
    assert Image.open(io.BytesIO(images[0].data)).size == (32, 32)


def test_a_flagged_image_refuses_only_its_own_request(
    engine: DiffusersEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model's safety checker flags the second row of the batch: that request is refused,
    the first keeps its images."""
    pipeline = engine._pipeline

    def checker(image, device, dtype):
        return image, [False, True, False][: len(image)]

    monkeypatch.setattr(pipeline, "run_safety_checker", checker)
    kept, refused = engine.generate(
        [_request(prompt="a", seed=1, n=1), _request(prompt="b", seed=2, n=2)]
    )
    assert isinstance(refused, ContentFiltered)
    assert "1 of 2 images" in refused.message
    assert isinstance(kept, list) and len(kept) == 1
    assert kept[0].data.startswith(b"\x89PNG")
