"""Loading a diffusers pipeline and switching on its speed-ups.

Separate from the engine so the benchmark can apply the very same optimisations to a pipeline it
builds itself. Every failure that a user can fix (missing folder, unknown scheduler, no GPU) becomes
a ConfigError naming what was asked for, because setup errors stop `gouache serve` from starting and
that message is all the user sees.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from gouache.engines.diffusers_options import DiffusersOptions
from gouache.errors import ConfigError

logger = logging.getLogger("gouache.engines.diffusers")


def resolve_device(requested: str | None) -> str:
    """The device asked for, checked; or the best one present (cuda, then mps, then cpu)."""
    import torch

    mps = getattr(torch.backends, "mps", None)
    has_mps = bool(mps and mps.is_available())
    if requested is None:
        return "cuda" if torch.cuda.is_available() else "mps" if has_mps else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            'diffusers option device = "cuda" but torch sees no CUDA GPU '
            f"(torch {torch.__version__}, built for CUDA {torch.version.cuda}); "
            'install a CUDA build of torch or set device = "cpu"'
        )
    if requested == "mps" and not has_mps:
        raise ConfigError('diffusers option device = "mps" but torch reports MPS unavailable')
    return requested


def resolve_dtype(requested: str | None, device: str) -> Any:
    """bf16 on CUDA (fast, no fp16 overflow in SDXL's VAE), fp16 on MPS, fp32 on CPU."""
    import torch

    name = requested or {"cuda": "bf16", "mps": "fp16"}.get(device, "fp32")
    return {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[name]


_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def _could_be_hub_id(model: str) -> bool:
    """Hub ids are `org/name` (or a bare `name`); anything else is meant as a folder on disk."""
    return bool(_HUB_ID.match(model)) and not model.startswith(".")


def _dtype_keyword() -> str:
    """Recent diffusers renamed `torch_dtype` to `dtype` (and warn on the old name)."""
    try:
        from diffusers.utils.deprecation_utils import _TORCH_DTYPE_DEPRECATION_MESSAGE  # noqa: F401
    except ImportError:
        return "torch_dtype"
    return "dtype"


def load_pipeline(options: DiffusersOptions, dtype: Any) -> Any:
    """Load the text-to-image pipeline named by `options.model` (local folder or hub id)."""
    from diffusers import AutoPipelineForText2Image, DiffusionPipeline

    model = options.model
    path = Path(model).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ConfigError(
                f"diffusers model {model!r} is a file; gouache loads diffusers model folders "
                "(with model_index.json). Convert single-file checkpoints with diffusers' "
                "from_single_file(...).save_pretrained(folder) first."
            )
        if not (path / "model_index.json").is_file():
            raise ConfigError(
                f"diffusers model folder {str(path)!r} has no model_index.json; point model at the "
                "folder that save_pretrained or `hf download` wrote"
            )
        source = str(path)
    elif not _could_be_hub_id(model):
        raise ConfigError(
            f"diffusers model folder {str(path.absolute())!r} does not exist; check options.model "
            "of this deployment"
        )
    else:
        source = model
    kwargs = {_dtype_keyword(): dtype}
    try:
        try:
            return AutoPipelineForText2Image.from_pretrained(source, **kwargs)
        except ValueError as exc:
            # A pipeline class AutoPipeline has no text-to-image mapping for (community models).
            logger.info("AutoPipeline cannot load %s (%s); trying DiffusionPipeline", source, exc)
            return DiffusionPipeline.from_pretrained(source, **kwargs)
    except ConfigError:
        raise
    except Exception as exc:
        if source != model:
            raise ConfigError(f"cannot load diffusers model folder {source!r}: {exc}") from exc
        raise ConfigError(
            f"cannot load diffusers model {model!r}: there is no folder "
            f"{str(path.absolute())!r}, and as a Hugging Face hub id it failed: {exc}. Without "
            f"internet, download it elsewhere (`hf download {model} --local-dir /models/NAME`) "
            "and set model to that folder"
        ) from exc


def set_scheduler(pipeline: Any, name: str) -> None:
    """Swap in a scheduler class by name, keeping the model's noise schedule configuration."""
    import diffusers

    cls = getattr(diffusers, name, None)
    if cls is None or not hasattr(cls, "from_config") or not name.endswith("Scheduler"):
        known = sorted(n for n in dir(diffusers) if n.endswith("Scheduler") and "Flow" not in n)
        raise ConfigError(
            f"diffusers option scheduler = {name!r} is not a diffusers scheduler class; "
            f"for example: {', '.join(known[:12])}"
        )
    pipeline.scheduler = cls.from_config(pipeline.scheduler.config)


def optimise(pipeline: Any, options: DiffusersOptions, device: str) -> list[str]:
    """Place the pipeline on its device and apply the speed-ups asked for; return their names.

    Order matters: fusing QKV changes the attention modules, so it comes before channels_last
    (which only restrides weights) and before torch.compile (which traces the final modules).
    """
    import torch
    from diffusers.models.attention_processor import AttnProcessor

    applied: list[str] = []
    denoiser = getattr(pipeline, "unet", None) or getattr(pipeline, "transformer", None)
    if options.cpu_offload:
        if device != "cuda":
            raise ConfigError('diffusers option cpu_offload needs device = "cuda"')
        pipeline.enable_model_cpu_offload()
        applied.append("cpu_offload")
    else:
        pipeline.to(device)
    if options.vae_tiling:
        pipeline.vae.enable_tiling()
        applied.append("vae_tiling")
    if not options.sdpa and denoiser is not None and hasattr(denoiser, "set_attn_processor"):
        # diffusers uses torch's scaled_dot_product_attention by default; this is the slow path.
        denoiser.set_attn_processor(AttnProcessor())
        pipeline.vae.set_attn_processor(AttnProcessor())
    elif options.sdpa:
        applied.append("sdpa")
    if options.fuse_qkv:
        if not hasattr(pipeline, "fuse_qkv_projections"):
            raise ConfigError(
                f"diffusers option fuse_qkv: {type(pipeline).__name__} cannot fuse QKV projections"
            )
        pipeline.fuse_qkv_projections()
        applied.append("fuse_qkv")
    channels_last = options.channels_last if options.channels_last is not None else device == "cuda"
    if channels_last and denoiser is not None:
        denoiser.to(memory_format=torch.channels_last)
        pipeline.vae.to(memory_format=torch.channels_last)
        applied.append("channels_last")
    if options.compile and denoiser is not None:
        _tune_inductor()
        compiled = torch.compile(denoiser, mode=options.compile_mode, fullgraph=True, dynamic=False)
        if hasattr(pipeline, "unet"):
            pipeline.unet = compiled
        else:
            pipeline.transformer = compiled
        # With 1-4 step turbo models the VAE decode is a large share of the work: compile it too.
        pipeline.vae.decode = torch.compile(
            pipeline.vae.decode, mode=options.compile_mode, fullgraph=True, dynamic=False
        )
        applied.append(f"compile({options.compile_mode})")
    pipeline.set_progress_bar_config(disable=True)
    return applied


def _tune_inductor() -> None:
    """Settings diffusers recommends for compiling UNets (process-wide, hence only when compiling):
    1x1 convolutions as matmuls, coordinate-descent tuning of the generated kernels, and room for
    one specialised graph per batch size (each size 1..max_batch_images is its own shape)."""
    import torch._dynamo
    import torch._inductor.config as inductor

    inductor.conv_1x1_as_mm = True
    inductor.coordinate_descent_tuning = True
    inductor.epilogue_fusion = False
    inductor.coordinate_descent_check_all_directions = True
    config = torch._dynamo.config
    for name in ("recompile_limit", "cache_size_limit"):
        if hasattr(config, name):
            setattr(config, name, max(getattr(config, name), 64))
