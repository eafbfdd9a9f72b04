"""Throughput of the diffusers engine against a plain diffusers pipeline call, on a GPU.

Models are built from config dicts written below with the real SD-Turbo (SD 2.1 UNet, 512x512) and
SDXL-Turbo (1024x1024 and 512x512) architectures, randomly initialised: no hub, and timing does not
depend on weight values. For each model and batch size (1, 2, 4, 8) it times

    plain-fp32       StableDiffusion(XL)Pipeline as built, diffusers defaults, fp32
    plain-fp16       the diffusers docs recipe: fp16, defaults (SDPA) -- the baseline to beat
    engine ladder    the engine with its optimisations switched on one at a time, cumulatively:
                     bf16 (classic attention) -> +sdpa -> +channels_last -> +fuse_qkv -> +compile

Every row includes PNG encoding of the images (a plain call is followed by the same encode the
engine does), since a service pays it either way. It reports latency (median of --repeats calls),
images/s, speed-up over plain-fp16, and the fraction of the GPU's dense bf16 peak reached:
pipeline FLOPs per image (torch.utils.flop_counter over one eager call: text encoder, UNet steps,
VAE decode) x images/s / peak. Goal: >= 1.5x plain-fp16 at batch 8.

Two more tasks (--tasks generate,edit,stream; all three by default):

    edit     image-to-image and inpainting at strength 0.75 on a 512x512 input (mask: the middle
             half): the plain diffusers AutoPipelineFor{Image2Image,Inpainting}.from_pipe(...)
             call in fp16 against the engine's edit requests (--edit-config, from the ladder)
    stream   the engine with --stream-steps steps, without previews against the same engine
             sending partial_images=3 previews per image (latent-to-RGB projection, then PNG
             encoding, as a job layer storing them would). Goal: previews cost < 10%.

    python bench/diffusers_gpu.py                         # all models, needs CUDA
    python bench/diffusers_gpu.py --models sd-turbo --batches 1,8 --configs plain-fp16,+compile
    python bench/diffusers_gpu.py --allow-cpu             # smoke run: shrunk models, 64x64, CPU

Knobs: --tasks, --edit-config (+channels_last), --stream-steps (4), --steps (default 1, as turbo models are used), --repeats (5), --compile-mode,
--peak-tflops (override the table), --json FILE (rows for docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

PROMPT = "a watercolour lighthouse on a cliff at dawn, soft light, detailed"

# Dense bf16 tensor-core peak, TFLOP/s, from vendor data sheets (no sparsity).
PEAK_BF16_TFLOPS = {
    "H100 SXM": 989.4,
    "H100 80GB HBM3": 989.4,
    "H100 NVL": 835.0,
    "H100 PCIe": 756.0,
    "H200": 989.4,
    "GH200": 989.4,
    "B200": 2250.0,
    "A100": 312.0,
    "L40S": 362.1,
    "L40": 181.0,
    "L4": 121.0,
    "A10G": 70.0,
    "A10": 125.0,
    "RTX 4090": 165.2,
    "RTX 3090": 71.0,
}

# -- real architectures -------------------------------------------------------------------------

SD_TURBO = {
    "kind": "sd",
    "unet": {
        "sample_size": 64,
        "in_channels": 4,
        "out_channels": 4,
        "down_block_types": ["CrossAttnDownBlock2D"] * 3 + ["DownBlock2D"],
        "up_block_types": ["UpBlock2D"] + ["CrossAttnUpBlock2D"] * 3,
        "block_out_channels": [320, 640, 1280, 1280],
        "layers_per_block": 2,
        "attention_head_dim": [5, 10, 20, 20],
        "cross_attention_dim": 1024,
        "use_linear_projection": True,
        "norm_num_groups": 32,
    },
    "text_encoders": [
        {
            "hidden_size": 1024,
            "intermediate_size": 4096,
            "num_hidden_layers": 23,
            "num_attention_heads": 16,
            "hidden_act": "gelu",
            "projection_dim": 512,
        }
    ],
    "vae": {"block_out_channels": [128, 256, 512, 512], "scaling_factor": 0.18215},
}

SDXL_TURBO = {
    "kind": "sdxl",
    "unet": {
        "sample_size": 64,
        "in_channels": 4,
        "out_channels": 4,
        "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
        "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
        "block_out_channels": [320, 640, 1280],
        "layers_per_block": 2,
        "transformer_layers_per_block": [1, 2, 10],
        "attention_head_dim": [5, 10, 20],
        "cross_attention_dim": 2048,
        "use_linear_projection": True,
        "addition_embed_type": "text_time",
        "addition_time_embed_dim": 256,
        "projection_class_embeddings_input_dim": 2816,
        "norm_num_groups": 32,
    },
    "text_encoders": [
        {
            "hidden_size": 768,
            "intermediate_size": 3072,
            "num_hidden_layers": 12,
            "num_attention_heads": 12,
            "hidden_act": "quick_gelu",
            "projection_dim": 768,
        },
        {
            "hidden_size": 1280,
            "intermediate_size": 5120,
            "num_hidden_layers": 32,
            "num_attention_heads": 20,
            "hidden_act": "gelu",
            "projection_dim": 1280,
        },
    ],
    "vae": {"block_out_channels": [128, 256, 512, 512], "scaling_factor": 0.13025},
}

MODELS = {
    "sd-turbo": (SD_TURBO, "512x512"),
    "sdxl-turbo-1024": (SDXL_TURBO, "1024x1024"),
    "sdxl-turbo-512": (SDXL_TURBO, "512x512"),
}

# The ladder: each engine row adds one optimisation to the previous one.
CONFIGS: dict[str, dict[str, Any] | None] = {
    "plain-fp32": None,
    "plain-fp16": None,
    "bf16": {"dtype": "bf16", "sdpa": False, "channels_last": False},
    "+sdpa": {"dtype": "bf16", "sdpa": True, "channels_last": False},
    "+channels_last": {"dtype": "bf16", "sdpa": True, "channels_last": True},
    "+fuse_qkv": {"dtype": "bf16", "sdpa": True, "channels_last": True, "fuse_qkv": True},
    "+compile": {
        "dtype": "bf16",
        "sdpa": True,
        "channels_last": True,
        "fuse_qkv": True,
        "compile": True,
    },
}
BASELINE = "plain-fp16"


def shrink(arch: dict[str, Any], factor: int = 8) -> dict[str, Any]:
    """The smoke-test version of an architecture: every width divided by `factor`, few layers.
    Head counts stay, so per-head widths shrink; only the code paths matter on a CPU."""
    unet = dict(arch["unet"])
    unet["block_out_channels"] = [c // factor for c in unet["block_out_channels"]]
    unet["norm_num_groups"] = 8
    if "transformer_layers_per_block" in unet:
        unet["transformer_layers_per_block"] = [1] * len(unet["block_out_channels"])
    encoders = []
    for encoder in arch["text_encoders"]:
        encoder = dict(encoder)
        encoder["hidden_size"] //= factor
        encoder["intermediate_size"] //= factor
        encoder["projection_dim"] //= factor
        encoder["num_hidden_layers"] = 2
        encoders.append(encoder)
    unet["cross_attention_dim"] = (
        sum(e["hidden_size"] for e in encoders[-2:])
        if (arch["kind"] == "sdxl")
        else encoders[0]["hidden_size"]
    )
    if arch["kind"] == "sdxl":
        unet["addition_time_embed_dim"] //= factor
        unet["projection_class_embeddings_input_dim"] = (
            encoders[-1]["projection_dim"] + 6 * unet["addition_time_embed_dim"]
        )
    vae = dict(arch["vae"])
    vae["block_out_channels"] = [c // factor for c in vae["block_out_channels"]]
    vae["norm_num_groups"] = 8
    return {"kind": arch["kind"], "unet": unet, "text_encoders": encoders, "vae": vae}


def tokenizer() -> Any:
    """CLIP BPE over single byte-level symbols (no merges): real token plumbing, no download."""
    from transformers import CLIPTokenizer

    printable = [*range(33, 127), *range(161, 173), *range(174, 256)]
    symbols = [chr(b) for b in printable] + [chr(256 + i) for i in range(256 - len(printable))]
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for suffix in ("", "</w>"):
        for symbol in symbols:
            vocab[symbol + suffix] = len(vocab)
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77)


def build_pipeline(arch: dict[str, Any], device: str, dtype: Any, seed: int = 0) -> Any:
    """A randomly initialised pipeline of `arch`, created directly on `device` in `dtype`."""
    import torch
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionPipeline,
        StableDiffusionXLPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    torch.manual_seed(seed)
    vae_config = dict(arch["vae"])
    channels = vae_config.pop("block_out_channels")
    with torch.device(device):
        unet = UNet2DConditionModel(**arch["unet"])
        vae = AutoencoderKL(
            in_channels=3,
            out_channels=3,
            down_block_types=["DownEncoderBlock2D"] * len(channels),
            up_block_types=["UpDecoderBlock2D"] * len(channels),
            block_out_channels=channels,
            layers_per_block=2,
            latent_channels=4,
            force_upcast=arch["kind"] == "sdxl",
            **vae_config,
        )
        encoders = []
        for index, encoder in enumerate(arch["text_encoders"]):
            config = CLIPTextConfig(
                vocab_size=49408,
                max_position_embeddings=77,
                bos_token_id=0,
                eos_token_id=1,
                pad_token_id=1,
                **encoder,
            )
            last = arch["kind"] == "sdxl" and index == 1
            encoders.append(CLIPTextModelWithProjection(config) if last else CLIPTextModel(config))
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        timestep_spacing="trailing",
        steps_offset=1,
    )
    if arch["kind"] == "sdxl":
        pipeline = StableDiffusionXLPipeline(
            vae=vae,
            text_encoder=encoders[0],
            text_encoder_2=encoders[1],
            tokenizer=tokenizer(),
            tokenizer_2=tokenizer(),
            unet=unet,
            scheduler=scheduler,
            force_zeros_for_empty_prompt=True,
            add_watermarker=False,
        )
    else:
        pipeline = StableDiffusionPipeline(
            vae=vae,
            text_encoder=encoders[0],
            tokenizer=tokenizer(),
            unet=unet,
            scheduler=scheduler,
            safety_checker=None,
            feature_extractor=None,
            requires_safety_checker=False,
        )
    pipeline.set_progress_bar_config(disable=True)
    return pipeline.to(device=device, dtype=dtype)


# -- measuring ----------------------------------------------------------------------------------


@dataclass
class Row:
    model: str
    config: str
    batch: int
    latency_ms: float | None = None
    images_per_s: float | None = None
    speedup: float | None = None
    peak_fraction: float | None = None
    max_memory_gib: float | None = None
    error: str | None = None


def synchronize(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


def timed(fn: Callable[[], Any], device: str, warmup: int, repeats: int) -> float:
    """Median wall seconds of `fn` after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        synchronize(device)
        started = time.perf_counter()
        fn()
        synchronize(device)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def plain_call(pipeline: Any, batch: int, width: int, height: int, steps: int) -> Callable[[], Any]:
    """What a user of diffusers writes: one call with the batch's prompts, then encode to PNG."""
    import torch

    from gouache.engines.encoding import encode_image

    def call() -> None:
        generators = [torch.Generator("cpu").manual_seed(i) for i in range(batch)]
        images = pipeline(
            prompt=[PROMPT] * batch,
            height=height,
            width=width,
            num_inference_steps=steps,
            guidance_scale=0.0,
            generator=generators,
        ).images
        for image in images:
            encode_image(image, "png")

    return call


def count_flops(pipeline: Any, width: int, height: int, steps: int) -> tuple[float, float]:
    """(FLOPs of one image through the whole pipeline, FLOPs of one UNet step), counted by
    torch.utils.flop_counter on eager calls with 1 and 2 steps (the difference is one step)."""
    from torch.utils.flop_counter import FlopCounterMode

    totals = []
    for n_steps in (1, 2):
        counter = FlopCounterMode(display=False)
        with counter:
            plain_call(pipeline, 1, width, height, n_steps)()
        totals.append(counter.get_total_flops())
    per_step = totals[1] - totals[0]
    return totals[0] + per_step * (steps - 1), per_step


def peak_tflops(device: str, override: float | None) -> tuple[str, float | None]:
    import torch

    if device != "cuda":
        return "cpu", override
    name = torch.cuda.get_device_name()
    if override:
        return name, override
    for key in sorted(PEAK_BF16_TFLOPS, key=len, reverse=True):
        if key in name or key.replace(" SXM", "") == name.replace("NVIDIA ", ""):
            return name, PEAK_BF16_TFLOPS[key]
    return name, None


def run_model(model: str, args: argparse.Namespace, device: str, peak: float | None) -> list[Row]:
    import torch

    from gouache.engines.base import ImageRequest
    from gouache.engines.diffusers import DiffusersEngine

    arch, size = MODELS[model]
    if args.allow_cpu and device == "cpu":
        arch, size = shrink(arch), "64x64"
    width, height = (int(v) for v in size.split("x"))
    arch = {**arch, "unet": {**arch["unet"], "sample_size": height // 8}}
    rows: list[Row] = []
    flops_per_image = None
    for config in args.configs:
        if device == "cuda":
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        try:
            engine_options = CONFIGS[config]
            if engine_options is None:
                dtype = torch.float16 if config == "plain-fp16" else torch.float32
                pipeline = build_pipeline(arch, device, dtype)
                if flops_per_image is None and config == BASELINE:
                    flops_per_image, per_step = count_flops(pipeline, width, height, args.steps)
                    print(
                        f"# {model} {size}, {args.steps} step(s): {flops_per_image / 1e9:,.1f} "
                        f"GFLOP per image (UNet {per_step / 1e9:,.1f} GFLOP per step)",
                        flush=True,
                    )
                calls = {
                    b: plain_call(pipeline, b, width, height, args.steps) for b in args.batches
                }
            else:
                dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(
                    engine_options.get("dtype", ""), torch.float32
                )
                pipeline = build_pipeline(arch, device, dtype)
                engine = DiffusersEngine.from_pipeline(
                    pipeline,
                    {
                        **engine_options,
                        "device": device,
                        "sizes": [size],
                        "steps": args.steps,
                        "guidance": 0.0,
                        "max_batch_images": max(args.batches),
                        "compile_mode": args.compile_mode,
                        "warmup_batch_sizes": list(args.batches),
                        "warmup": bool(engine_options.get("compile")),
                    },
                )
                engine.setup()

                def engine_call(batch: int, engine: DiffusersEngine = engine) -> Callable[[], Any]:
                    request = ImageRequest(prompt=PROMPT, n=batch, size=size, seed=0)
                    return lambda: engine.generate([request])

                calls = {b: engine_call(b) for b in args.batches}
            for batch, call in calls.items():
                seconds = timed(call, device, args.warmup, args.repeats)
                row = Row(model, config, batch, seconds * 1000, batch / seconds)
                if device == "cuda":
                    row.max_memory_gib = torch.cuda.max_memory_allocated() / 2**30
                if flops_per_image and peak:
                    row.peak_fraction = flops_per_image * row.images_per_s / (peak * 1e12)
                rows.append(row)
                print(format_row(row), flush=True)
            del pipeline, calls
        except Exception as exc:  # one broken config must not hide the others' numbers
            row = Row(model, config, 0, error=f"{type(exc).__name__}: {exc}"[:300])
            rows.append(row)
            print(format_row(row), flush=True)
    baseline = {r.batch: r.images_per_s for r in rows if r.config == BASELINE and r.images_per_s}
    for row in rows:
        if row.images_per_s and baseline.get(row.batch):
            row.speedup = row.images_per_s / baseline[row.batch]
    return rows


def edit_inputs(width: int, height: int) -> tuple[Any, Any, bytes, bytes]:
    """A picture to edit and its mask (transparent middle half), as Pillow images for the plain
    call and PNG bytes for the engine (the diffusers mask convention: white = repaint)."""
    import io

    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (width, height), (180, 60, 40))
    ImageDraw.Draw(picture).ellipse((width // 5, height // 5, width * 4 // 5, height), fill="navy")
    box = (width // 4, height // 4, width * 3 // 4, height * 3 // 4)
    mask = Image.new("RGBA", (width, height), (0, 0, 0, 255))
    ImageDraw.Draw(mask).rectangle(box, fill=(0, 0, 0, 0))
    white = Image.new("L", (width, height), 0)
    ImageDraw.Draw(white).rectangle(box, fill=255)
    encoded = []
    for image in (picture, mask):
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        encoded.append(buffer.getvalue())
    return picture, white, encoded[0], encoded[1]


def engine_for(
    pipeline: Any, config: str, device: str, size: str, steps: int, batches: list[int], args: Any
) -> Any:
    from gouache.engines.diffusers import DiffusersEngine

    options = CONFIGS[config] or {}
    engine = DiffusersEngine.from_pipeline(
        pipeline,
        {
            **options,
            "device": device,
            "sizes": [size],
            "steps": steps,
            "guidance": 0.0,
            "max_batch_images": max(batches),
            "compile_mode": args.compile_mode,
            "warmup_batch_sizes": list(batches),
            "warmup": bool(options.get("compile")),
        },
    )
    engine.setup()
    return engine


def measure(
    rows: list[Row],
    label: str,
    config: str,
    calls: dict[int, Callable[[], Any]],
    device: str,
    args: Any,
) -> None:
    import torch

    for batch, call in calls.items():
        if device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        seconds = timed(call, device, args.warmup, args.repeats)
        row = Row(label, config, batch, seconds * 1000, batch / seconds)
        if device == "cuda":
            row.max_memory_gib = torch.cuda.max_memory_allocated() / 2**30
        rows.append(row)
        print(format_row(row), flush=True)


def with_speedups(rows: list[Row], baseline: str) -> list[Row]:
    base = {(r.model, r.batch): r.images_per_s for r in rows if r.config == baseline}
    for row in rows:
        if row.images_per_s and base.get((row.model, row.batch)):
            row.speedup = row.images_per_s / base[(row.model, row.batch)]
    return rows


def run_edits(model: str, args: argparse.Namespace, device: str) -> list[Row]:
    """img2img and inpainting: plain fp16 from_pipe calls against the engine's edit requests."""
    import torch
    from diffusers import AutoPipelineForImage2Image, AutoPipelineForInpainting

    from gouache.engines.base import ImageRequest
    from gouache.engines.encoding import encode_image

    arch, size = model_arch(model, args, device)
    width, height = (int(v) for v in size.split("x"))
    picture, white, picture_png, mask_png = edit_inputs(width, height)
    strength = 0.75
    steps = max(args.steps, 1)
    from gouache.engines.diffusers_edits import pipeline_steps

    asked = pipeline_steps(steps, strength)
    rows: list[Row] = []
    try:
        plain = build_pipeline(arch, device, torch.float16 if device == "cuda" else torch.float32)
        for kind, auto in (
            ("img2img", AutoPipelineForImage2Image),
            ("inpaint", AutoPipelineForInpainting),
        ):
            derived = auto.from_pipe(plain)
            derived.set_progress_bar_config(disable=True)

            def plain_edit(
                batch: int, derived: Any = derived, kind: str = kind
            ) -> Callable[[], Any]:
                def call() -> None:
                    extra = {"mask_image": [white] * batch} if kind == "inpaint" else {}
                    images = derived(
                        prompt=[PROMPT] * batch,
                        image=[picture] * batch,
                        strength=strength,
                        num_inference_steps=asked,
                        guidance_scale=0.0,
                        generator=[torch.Generator("cpu").manual_seed(i) for i in range(batch)],
                        **extra,
                    ).images
                    for image in images:
                        encode_image(image, "png")

                return call

            measure(
                rows,
                f"{model}:{kind}",
                BASELINE,
                {b: plain_edit(b) for b in args.batches},
                device,
                args,
            )
        del plain, derived
        if device == "cuda":
            torch.cuda.empty_cache()
        dtype = torch.bfloat16 if device == "cuda" else torch.float32
        engine = engine_for(
            build_pipeline(arch, device, dtype),
            args.edit_config,
            device,
            size,
            steps,
            args.batches,
            args,
        )
        for kind in ("img2img", "inpaint"):

            def engine_edit(batch: int, kind: str = kind) -> Callable[[], Any]:
                request = ImageRequest(
                    prompt=PROMPT,
                    n=batch,
                    size=size,
                    seed=0,
                    operation="edit",
                    images=(picture_png,),
                    mask=mask_png if kind == "inpaint" else None,
                    strength=strength,
                )
                return lambda: engine.generate([request])

            measure(
                rows,
                f"{model}:{kind}",
                args.edit_config,
                {b: engine_edit(b) for b in args.batches},
                device,
                args,
            )
        engine.close()
    except Exception as exc:  # keep the other tasks' numbers
        rows.append(Row(f"{model}:edit", "-", 0, error=f"{type(exc).__name__}: {exc}"[:300]))
        print(format_row(rows[-1]), flush=True)
    return with_speedups(rows, BASELINE)


def run_stream(model: str, args: argparse.Namespace, device: str) -> list[Row]:
    """The same engine without and with partial_images=3 previews, each encoded to PNG."""
    import torch

    from gouache.engines.base import ImageRequest

    arch, size = model_arch(model, args, device)
    rows: list[Row] = []
    try:
        dtype = torch.bfloat16 if device == "cuda" else torch.float32
        engine = engine_for(
            build_pipeline(arch, device, dtype),
            args.edit_config,
            device,
            size,
            args.stream_steps,
            args.batches,
            args,
        )
        sent: list[bytes] = []

        def keep(preview: Any) -> None:
            sent.append(preview.encode("png"))

        for label, partial in (("no-previews", 0), ("previews-3", 3)):

            def call(batch: int, partial: int = partial) -> Callable[[], Any]:
                request = ImageRequest(
                    prompt=PROMPT, n=batch, size=size, seed=0, partial_images=partial
                )
                return lambda: engine.run_batch([request], keep)

            measure(
                rows, f"{model}:stream", label, {b: call(b) for b in args.batches}, device, args
            )
        engine.close()
        if not sent:
            raise RuntimeError("the previews run sent no previews")
    except Exception as exc:
        rows.append(Row(f"{model}:stream", "-", 0, error=f"{type(exc).__name__}: {exc}"[:300]))
        print(format_row(rows[-1]), flush=True)
    return with_speedups(rows, "no-previews")


def model_arch(model: str, args: argparse.Namespace, device: str) -> tuple[dict[str, Any], str]:
    arch, size = MODELS[model]
    if args.allow_cpu and device == "cpu":
        arch, size = shrink(arch), "64x64"
    height = int(size.split("x")[1])
    return {**arch, "unet": {**arch["unet"], "sample_size": height // 8}}, size


def format_row(row: Row) -> str:
    if row.error:
        return f"{row.model:<16} {row.config:<15} failed: {row.error}"

    def show(value: float | None, pattern: str) -> str:
        return "-" if value is None else pattern.format(value)

    return (
        f"{row.model:<16} {row.config:<15} {row.batch:>5} {show(row.latency_ms, '{:.1f}'):>11} "
        f"{show(row.images_per_s, '{:.2f}'):>9} {show(row.speedup, '{:.2f}x'):>8} "
        f"{show(row.peak_fraction, '{:.1%}'):>7} {show(row.max_memory_gib, '{:.1f}'):>7}"
    )


HEADER = (
    f"{'model':<16} {'config':<15} {'batch':>5} {'latency_ms':>11} {'images/s':>9} "
    f"{'vs fp16':>8} {'%peak':>7} {'mem GiB':>7}"
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--batches", default="1,2,4,8")
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--steps", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2, help="untimed calls per batch size")
    parser.add_argument("--compile-mode", default="max-autotune-no-cudagraphs")
    parser.add_argument("--peak-tflops", type=float, default=None)
    parser.add_argument("--json", default=None, help="write the rows to this file")
    parser.add_argument("--tasks", default="generate,edit,stream")
    parser.add_argument(
        "--edit-config", default="+channels_last", help="engine config for edit/stream"
    )
    parser.add_argument("--stream-steps", type=int, default=4)
    parser.add_argument(
        "--allow-cpu",
        action="store_true",
        help="without CUDA, run a smoke version: shrunk models at 64x64, 1 step, batches 1-2",
    )
    args = parser.parse_args(argv)
    args.models = [m for m in args.models.split(",") if m]
    args.batches = [int(b) for b in args.batches.split(",") if b]
    args.configs = [c for c in args.configs.split(",") if c]
    args.tasks = [t for t in args.tasks.split(",") if t]
    unknown_tasks = [t for t in args.tasks if t not in ("generate", "edit", "stream")]
    if unknown_tasks or args.edit_config not in CONFIGS or CONFIGS[args.edit_config] is None:
        parser.error(
            f"--tasks takes generate, edit, stream (got {unknown_tasks}); --edit-config one of the "
            f"engine configs {', '.join(k for k, v in CONFIGS.items() if v is not None)}"
        )
    for name, known in (("models", MODELS), ("configs", CONFIGS)):
        unknown = [v for v in getattr(args, name) if v not in known]
        if unknown:
            parser.error(f"unknown {name} {unknown}; known: {', '.join(known)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        import diffusers
        import torch
    except ImportError as exc:
        print(f"needs the diffusers extra ({exc}): pip install 'gouache[diffusers]'")
        return 2
    diffusers.utils.logging.set_verbosity_error()  # dtype-cast notices on every build
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        if not args.allow_cpu:
            print(
                "No CUDA GPU found: this benchmark measures GPU throughput. Run it on a machine "
                "with an NVIDIA GPU, or pass --allow-cpu for a smoke run (shrunk models, 64x64, "
                "1 step, batches 1-2) that only checks the script works."
            )
            return 2
        args.batches = [b for b in args.batches if b <= 2] or [1]
        args.steps, args.repeats, args.warmup = 1, 1, 1
        # Shrunk to 64x64, the two SDXL entries are the same model: run the architecture once.
        if "sdxl-turbo-512" in args.models and "sdxl-turbo-1024" in args.models:
            args.models.remove("sdxl-turbo-1024")
    gpu, peak = peak_tflops(device, args.peak_tflops)
    print(
        f"# {gpu}; dense bf16 peak {peak or '?'} TFLOP/s; torch {torch.__version__}, "
        f"diffusers {diffusers.__version__}; steps {args.steps}, median of {args.repeats}"
    )
    print(HEADER, flush=True)
    rows: list[Row] = []
    for model in args.models:
        if "generate" in args.tasks:
            rows += run_model(model, args, device, peak)
        if "edit" in args.tasks:
            rows += run_edits(model, args, device)
        if "stream" in args.tasks:
            rows += run_stream(model, args, device)
    print("\n# summary (speed-up over plain-fp16, same batch; stream rows: over no-previews)")
    print(HEADER)
    for row in rows:
        print(format_row(row))
    best = [
        r
        for r in rows
        if r.batch == max(args.batches) and r.speedup and CONFIGS.get(r.config) is not None
    ]
    for model in args.models:
        top = max((r for r in best if r.model == model), key=lambda r: r.speedup, default=None)
        if top:
            verdict = "meets" if top.speedup >= 1.5 else "misses"
            if device == "cpu":
                verdict = "CPU smoke run: says nothing about GPU speed; not judged against"
            print(
                f"# {model}: best at batch {top.batch} is {top.config}, {top.speedup:.2f}x "
                f"plain-fp16 ({verdict} the 1.5x goal)"
            )
    for row in rows:
        if row.config == "previews-3" and row.speedup and row.batch == max(args.batches):
            cost = 1 - row.speedup
            verdict = "meets" if cost < 0.10 else "misses"
            if device == "cpu":
                verdict = "CPU smoke run: not judged against"
            print(
                f"# {row.model}: previews (partial_images=3) cost {cost:.1%} of throughput at "
                f"batch {row.batch} ({verdict} the < 10% goal)"
            )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(
                {"device": gpu, "peak_tflops": peak, "rows": [asdict(r) for r in rows]},
                handle,
                indent=1,
            )
    return 0 if not any(r.error for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
