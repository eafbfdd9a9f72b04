"""Edits, variations and previews of the diffusers engine, on a tiny random model built here.

The model draws noise, but the properties that matter are all observable: which pixels change,
which are kept byte for byte, how many images of what size come back, whether the weights are held
once, and what the step callback sends.
"""

from __future__ import annotations

import io
import logging

import pytest

pytest.importorskip(
    "torch", reason="the diffusers engine needs torch: pip install 'gouache[diffusers]'"
)
pytest.importorskip(
    "diffusers", reason="the diffusers engine needs diffusers: pip install 'gouache[diffusers]'"
)

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from gouache.engines import create_engine  # noqa: E402
from gouache.engines.base import ImageRequest, Preview  # noqa: E402
from gouache.engines.diffusers import DiffusersEngine  # noqa: E402
from gouache.engines.diffusers_edits import pipeline_steps  # noqa: E402
from gouache.errors import InvalidRequest  # noqa: E402
from tests.conftest import png_bytes
from tests.tiny_diffusers import build_tiny_pipeline  # noqa: E402

pytestmark = pytest.mark.diffusers


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> DiffusersEngine:
    model = build_tiny_pipeline(tmp_path_factory.mktemp("tiny-sd-edits") / "model")
    engine = create_engine(
        "diffusers",
        {"model": str(model), "device": "cpu", "sizes": ["64x64", "32x32"], "steps": 3},
    )
    assert isinstance(engine, DiffusersEngine)
    engine.setup()
    yield engine
    engine.close()


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.int16)


def _source() -> Image.Image:
    picture = Image.new("RGB", (64, 64), (200, 40, 40))
    ImageDraw.Draw(picture).rectangle((8, 8, 40, 40), fill=(30, 30, 200))
    return picture


def _left_half_mask(transparent_left: bool = True) -> Image.Image:
    """Transparent (edit here) on the left half, opaque (keep) on the right; or the reverse."""
    mask = Image.new("RGBA", (64, 64), (0, 0, 0, 255))
    box = (0, 0, 31, 63) if transparent_left else (32, 0, 63, 63)
    ImageDraw.Draw(mask).rectangle(box, fill=(0, 0, 0, 0))
    return mask


def _edit(**fields) -> ImageRequest:
    values = {
        "prompt": "a cat on a sofa",
        "n": 1,
        "size": "64x64",
        "seed": 4,
        "operation": "edit",
        "images": (png_bytes(_source()),),
    }
    values.update(fields)
    return ImageRequest(**values)


def test_edit_pipelines_share_the_loaded_weights(engine: DiffusersEngine) -> None:
    base = engine.pipeline_for("generate")
    for kind in ("img2img", "inpaint"):
        derived = engine.pipeline_for(kind)
        assert derived is not base
        assert type(derived).__name__ in (
            "StableDiffusionImg2ImgPipeline",
            "StableDiffusionInpaintPipeline",
        )
        for module in ("unet", "vae", "text_encoder"):
            ours = [p.data_ptr() for p in getattr(base, module).parameters()]
            theirs = [p.data_ptr() for p in getattr(derived, module).parameters()]
            assert ours == theirs, f"{kind} pipeline holds a second copy of the {module}"
    # Made once, then kept.
    assert engine.pipeline_for("inpaint") is engine.pipeline_for("inpaint")


@pytest.mark.parametrize("transparent_left", [True, False])
def test_inpainting_repaints_only_the_transparent_area(
    engine: DiffusersEngine, transparent_left: bool
) -> None:
    mask = _left_half_mask(transparent_left)
    [images] = engine.generate([_edit(mask=png_bytes(mask), n=2)])
    original = np.asarray(_source(), dtype=np.int16)
    keep = np.asarray(mask.getchannel("A")) != 0
    for image in images:
        result = _pixels(image.data)
        assert result.shape == (64, 64, 3)
        assert np.array_equal(result[keep], original[keep])
        changed = np.abs(result[~keep] - original[~keep]).sum(axis=1) > 30
        assert changed.mean() > 0.5
    assert images[0].data != images[1].data


def test_img2img_edit_and_variation(engine: DiffusersEngine) -> None:
    edit = _edit(n=2, size="32x32")
    variation = ImageRequest(
        prompt="", n=1, size="64x64", seed=9, operation="variation", images=(png_bytes(_source()),)
    )
    edited, varied = engine.generate([edit, variation])
    assert [Image.open(io.BytesIO(i.data)).size for i in edited] == [(32, 32)] * 2
    assert Image.open(io.BytesIO(varied[0].data)).size == (64, 64)
    # Deterministic per seed.
    [again] = engine.generate([edit])
    assert [i.data for i in again] == [i.data for i in edited]


def test_strength_controls_how_far_the_edit_moves(engine: DiffusersEngine) -> None:
    """With the UNet's last layer zeroed the model predicts no noise, so an img2img call returns
    the input's latents plus the noise its strength adds, decoded. (A random UNet's own output
    would drown this, and a random VAE does not give the input back, so "the input" here is what
    the lowest strength returns.)"""
    import torch

    conv_out = engine.pipeline_for("generate").unet.conv_out
    saved = [p.detach().clone() for p in conv_out.parameters()]
    try:
        with torch.no_grad():
            for parameter in conv_out.parameters():
                parameter.zero_()
        drawn = {
            strength: _pixels(engine.generate([_edit(strength=strength)])[0][0].data)
            for strength in (0.02, 0.1, 1.0)
        }
    finally:
        with torch.no_grad():
            for parameter, value in zip(conv_out.parameters(), saved, strict=True):
                parameter.copy_(value)
    near = np.abs(drawn[0.1] - drawn[0.02]).mean()
    far = np.abs(drawn[1.0] - drawn[0.02]).mean()
    assert near < 0.7 * far, (near, far)
    assert engine.batch_key(_edit(strength=0.2)) != engine.batch_key(_edit(strength=1.0))


def test_steps_actually_run_stay_the_deployments(engine: DiffusersEngine) -> None:
    assert pipeline_steps(1, 0.5) == 2 and pipeline_steps(4, 0.6) == 7
    assert int(pipeline_steps(4, 0.6) * 0.6) == 4
    assert pipeline_steps(3, None) == 3


def test_compatible_edits_batch_together(
    engine: DiffusersEngine, caplog: pytest.LogCaptureFixture
) -> None:
    mask = png_bytes(_left_half_mask())
    alone = engine.generate([_edit(mask=mask, seed=21)])[0]
    other = _edit(mask=mask, prompt="a dog", seed=500)
    with caplog.at_level(logging.INFO, logger="gouache.engines.diffusers"):
        _, batched = engine.generate([other, _edit(mask=mask, seed=21)])
    assert "batch of 2 requests, 2 images at 64x64" in caplog.text
    a, b = _pixels(alone[0].data), _pixels(batched[0].data)
    assert np.abs(a - b).max() <= 1
    # An edit never shares a call with a generation, nor inpainting with img2img.
    generation = ImageRequest(prompt="a cat", n=1, size="64x64", seed=1)
    keys = {engine.batch_key(r) for r in (generation, _edit(), _edit(mask=mask))}
    assert len(keys) == 3


def test_what_a_diffusion_edit_cannot_do_is_refused(engine: DiffusersEngine) -> None:
    with pytest.raises(InvalidRequest, match="one image at a time") as caught:
        engine.generate([_edit(images=(png_bytes(_source()), png_bytes(_source())))])
    assert caught.value.param == "image"
    with pytest.raises(InvalidRequest, match="must be the same size"):
        engine.generate([_edit(mask=png_bytes(Image.new("RGBA", (32, 32))))])
    with pytest.raises(InvalidRequest, match="transparent"):
        engine.generate([_edit(background="transparent")])


def test_previews_follow_the_steps(engine: DiffusersEngine) -> None:
    got: list[Preview] = []
    mask = png_bytes(_left_half_mask())
    requests = [
        ImageRequest(prompt="a cat", n=1, size="64x64", seed=3, partial_images=2),
        _edit(mask=mask, n=2, partial_images=1),
        _edit(mask=mask, seed=99, partial_images=0),
    ]
    results = engine.run_batch(requests, got.append)
    per_image: dict[tuple[int, int], list[Preview]] = {}
    for preview in got:
        per_image.setdefault((preview.request_index, preview.image_index), []).append(preview)
    # 3 steps: two previews after steps 1 and 2; one after step 1; none where none was asked.
    assert sorted(per_image) == [(0, 0), (1, 0), (1, 1)]
    assert [p.progress for p in per_image[(0, 0)]] == pytest.approx([1 / 3, 2 / 3])
    assert [p.partial_image_index for p in per_image[(0, 0)]] == [0, 1]
    assert len(per_image[(1, 0)]) == 1 and len(per_image[(1, 1)]) == 1
    for (request_index, image_index), previews in per_image.items():
        final = _pixels(results[request_index][image_index].data)
        for preview in previews:
            assert preview.image.size == (64, 64)
            assert not np.array_equal(np.asarray(preview.image, dtype=np.int16), final)
    # Successive previews of one image show different latents.
    first, second = per_image[(0, 0)]
    assert not np.array_equal(np.asarray(first.image), np.asarray(second.image))
    # Previews do not change the images.
    plain = engine.generate([ImageRequest(prompt="a cat", n=1, size="64x64", seed=3)])[0]
    assert plain[0].data == results[0][0].data


def _smooth_pictures(count: int, seed: int):
    import torch
    import torch.nn.functional as F

    coarse = torch.rand(count, 3, 3, 3, generator=torch.Generator().manual_seed(seed)) * 2 - 1
    return F.interpolate(coarse, size=(64, 64), mode="bilinear")


def test_the_latent_projection_recovers_a_linear_vae_exactly() -> None:
    """Given a VAE whose encoder is linear (pool by 8, mix channels), the fitted projection
    inverts it: the preview of a picture's latents is the picture, at 1/8 resolution."""
    from types import SimpleNamespace

    import torch
    import torch.nn.functional as F

    from gouache.engines.diffusers_previews import LatentPreviewer

    class LinearVae(torch.nn.Module):
        config = SimpleNamespace(scaling_factor=0.5, shift_factor=0.1)

        def __init__(self) -> None:
            super().__init__()
            torch.manual_seed(0)
            self.mix = torch.nn.Conv2d(3, 4, 1)

        def encode(self, pictures):
            mean = self.mix(F.avg_pool2d(pictures, 8))
            return SimpleNamespace(latent_dist=SimpleNamespace(mean=mean))

    vae = LinearVae()
    pictures = _smooth_pictures(4, seed=7)
    with torch.no_grad():
        latents = (vae.encode(pictures).latent_dist.mean - 0.1) * 0.5
    previews = LatentPreviewer(vae).project(latents, (8, 8))
    expected = ((F.avg_pool2d(pictures, 8) + 1) * 127.5).permute(0, 2, 3, 1).numpy()
    got = np.stack([np.asarray(p, dtype=np.float32) for p in previews])
    assert np.abs(got - expected).max() < 2


def test_the_latent_projection_is_fitted_to_the_models_vae(engine: DiffusersEngine) -> None:
    """On the tiny random model the fit can only be rough, but it must beat knowing nothing
    (the mean colour) on pictures it was not fitted to."""
    import torch
    import torch.nn.functional as F

    from gouache.engines.diffusers_previews import LatentPreviewer

    vae = engine.pipeline_for("generate").vae
    pictures = _smooth_pictures(8, seed=123)
    with torch.no_grad():
        latents = vae.encode(pictures).latent_dist.mean * vae.config.scaling_factor
    previews = LatentPreviewer(vae).project(latents, (32, 32))
    target = ((F.avg_pool2d(pictures, 2) + 1) * 127.5).permute(0, 2, 3, 1).numpy()
    got = np.stack([np.asarray(p, dtype=np.float32) for p in previews])
    assert np.abs(got - target).mean() < np.abs(target - target.mean(axis=(0, 1, 2))).mean()
