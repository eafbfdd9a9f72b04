"""Options of the diffusers engine: parsed and checked from the deployment's `options` table.

Kept apart from the engine (and free of torch) so a typo in the config file is reported when the
config is read, before minutes of model loading, and so the rules can be tested without torch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gouache.errors import ConfigError


@dataclass(frozen=True)
class Family:
    """Sampling defaults of a model family: what its model card recommends."""

    steps: int
    guidance: float
    sizes: tuple[str, ...]


# Turbo models are distilled for 1-4 steps without classifier-free guidance; the base models want
# ~25-30 steps with guidance. Sizes are the resolutions each family was trained at.
FAMILIES: dict[str, Family] = {
    "sd-turbo": Family(steps=1, guidance=0.0, sizes=("512x512",)),
    "sdxl-turbo": Family(steps=1, guidance=0.0, sizes=("512x512",)),
    "sd15": Family(steps=25, guidance=7.5, sizes=("512x512",)),
    "sd21": Family(steps=25, guidance=7.5, sizes=("768x768", "512x512")),
    "sdxl": Family(steps=30, guidance=5.0, sizes=("1024x1024",)),
}

DEVICES = ("cuda", "mps", "cpu")
DTYPES = ("bf16", "fp16", "fp32")

_BOOL_OPTIONS = (
    "cpu_offload",
    "vae_tiling",
    "sdpa",
    "channels_last",
    "fuse_qkv",
    "compile",
    "warmup",
)


@dataclass(frozen=True)
class DiffusersOptions:
    """Every option of the engine. `None` means "decide at setup" (device-, model-dependent)."""

    model: str
    device: str | None = None
    dtype: str | None = None
    family: str | None = None
    steps: int | None = None
    guidance: float | None = None
    scheduler: str | None = None
    sizes: tuple[str, ...] | None = None
    max_batch_images: int = 8
    batch_window_s: float = 0.05
    quality_steps: dict[str, int] = field(default_factory=dict)
    cpu_offload: bool = False
    vae_tiling: bool = False
    sdpa: bool = True
    channels_last: bool | None = None
    fuse_qkv: bool = False
    compile: bool = False
    compile_mode: str = "max-autotune-no-cudagraphs"
    warmup: bool = True
    warmup_batch_sizes: tuple[int, ...] | None = None


ALLOWED_KEYS = {f for f in DiffusersOptions.__dataclass_fields__}


def _is_size(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    width, sep, height = value.partition("x")
    return bool(sep) and width.isdigit() and height.isdigit() and int(width) > 0 and int(height) > 0


def _choice(options: Mapping[str, Any], key: str, allowed: tuple[str, ...]) -> str | None:
    value = options.get(key)
    if value is None:
        return None
    if value not in allowed:
        raise ConfigError(f"diffusers option {key}={value!r} is not one of {', '.join(allowed)}")
    return str(value)


def _positive_int(options: Mapping[str, Any], key: str, default: int | None) -> int | None:
    value = options.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"diffusers option {key} must be a positive integer, got {value!r}")
    return value


def _number(options: Mapping[str, Any], key: str, default: float | None) -> float | None:
    value = options.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"diffusers option {key} must be a number >= 0, got {value!r}")
    return float(value)


def parse_options(options: Mapping[str, Any]) -> DiffusersOptions:
    """Check the raw `options` table and return typed options; raise ConfigError on anything odd."""
    unknown = sorted(set(options) - ALLOWED_KEYS)
    if unknown:
        raise ConfigError(
            f"unknown diffusers option(s) {unknown}; allowed: {', '.join(sorted(ALLOWED_KEYS))}"
        )
    model = options.get("model")
    if not isinstance(model, str) or not model.strip():
        raise ConfigError(
            "the diffusers engine needs options.model: a local model folder "
            '(e.g. model = "/models/sd-turbo") or a Hugging Face hub id (needs internet)'
        )
    sizes = options.get("sizes")
    if sizes is not None:
        if isinstance(sizes, str) or not sizes or not all(_is_size(s) for s in sizes):
            raise ConfigError(
                f"diffusers option sizes must be a list of WIDTHxHEIGHT strings, got {sizes!r}"
            )
        bad = [s for s in sizes if any(int(part) % 8 for part in s.split("x"))]
        if bad:
            raise ConfigError(
                f"diffusers option sizes: {bad} are not multiples of 8, which the VAE needs"
            )
        sizes = tuple(sizes)
    for key in _BOOL_OPTIONS:
        if key in options and not isinstance(options[key], bool):
            raise ConfigError(f"diffusers option {key} must be true or false, got {options[key]!r}")
    quality_steps = options.get("quality_steps", {})
    if not isinstance(quality_steps, Mapping) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in quality_steps.values()
    ):
        raise ConfigError(
            "diffusers option quality_steps must be a table of quality = steps, "
            f"e.g. {{ low = 1, high = 4 }}, got {quality_steps!r}"
        )
    warmup_batch_sizes = options.get("warmup_batch_sizes")
    if warmup_batch_sizes is not None:
        if isinstance(warmup_batch_sizes, str | bytes) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in warmup_batch_sizes
        ):
            raise ConfigError(
                "diffusers option warmup_batch_sizes must be a list of positive integers, "
                f"got {warmup_batch_sizes!r}"
            )
        warmup_batch_sizes = tuple(warmup_batch_sizes)
    scheduler = options.get("scheduler")
    if scheduler is not None and not isinstance(scheduler, str):
        raise ConfigError(f"diffusers option scheduler must be a class name, got {scheduler!r}")
    return DiffusersOptions(
        model=model.strip(),
        device=_choice(options, "device", DEVICES),
        dtype=_choice(options, "dtype", DTYPES),
        family=_choice(options, "family", tuple(FAMILIES)),
        steps=_positive_int(options, "steps", None),
        guidance=_number(options, "guidance", None),
        scheduler=scheduler,
        sizes=sizes,
        max_batch_images=_positive_int(options, "max_batch_images", 8) or 8,
        batch_window_s=_number(options, "batch_window_s", 0.05) or 0.0,
        quality_steps=dict(quality_steps),
        cpu_offload=bool(options.get("cpu_offload", False)),
        vae_tiling=bool(options.get("vae_tiling", False)),
        sdpa=bool(options.get("sdpa", True)),
        channels_last=options.get("channels_last"),
        fuse_qkv=bool(options.get("fuse_qkv", False)),
        compile=bool(options.get("compile", False)),
        compile_mode=str(options.get("compile_mode", "max-autotune-no-cudagraphs")),
        warmup=bool(options.get("warmup", True)),
        warmup_batch_sizes=warmup_batch_sizes,
    )


def guess_family(pipeline_class: str, model: str, unet_config: Mapping[str, Any]) -> str:
    """Name the family from what the loaded pipeline says about itself.

    "turbo" in the model's name is the only reliable sign of a distilled model (its config is the
    base model's); SD 2.x differs from 1.x by its 1024-wide text embeddings.
    """
    turbo = "turbo" in model.lower()
    if "XL" in pipeline_class:
        return "sdxl-turbo" if turbo else "sdxl"
    if turbo:
        return "sd-turbo"
    return "sd21" if unet_config.get("cross_attention_dim") == 1024 else "sd15"
