"""The diffusers engine: text-to-image with a local Stable Diffusion family model.

One pipeline per engine instance, loaded in `setup()`. A batch of requests from the job layer runs
as ONE pipeline call: every image is a row of the batch, drawn from its own CPU `torch.Generator`
seeded `request.seed + i`. Its starting noise therefore does not depend on the batch it lands in
(nor on the GPU model), so a seed names an image; what can differ between batch sizes is float
rounding in batch-size-dependent kernels, at most a level or so in a few pixels.

Edits and variations run the image-to-image and inpainting pipelines derived from the loaded one
(`diffusers_edits`: same weights, no second copy), batched like generations. Progress previews come
from the pipeline's step callback through a linear latent-to-RGB map (`diffusers_previews`).

Options come from the deployment's `options` table; see `diffusers_options` and docs/engines.md.
torch and diffusers are imported in `setup()` only, so building the engine stays cheap and the rest
of gouache never needs them.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Hashable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from gouache.engines import diffusers_edits as edits
from gouache.engines.base import (
    Engine,
    GeneratedImage,
    ImageRequest,
    Preview,
    PreviewSink,
    preview_steps,
)
from gouache.engines.diffusers_options import FAMILIES, guess_family, parse_options
from gouache.engines.encoding import encode_image, media_type
from gouache.errors import (
    ConfigError,
    ContentFiltered,
    GenerationFailed,
    GouacheError,
    InvalidRequest,
)

logger = logging.getLogger("gouache.engines.diffusers")


@dataclass(frozen=True, slots=True)
class _Row:
    """One image of a pipeline call: its request, seed, the request's place in the caller's
    batch, and the image's index within the request."""

    request: ImageRequest
    seed: int
    place: int
    index: int


class DiffusersEngine(Engine):
    name = "diffusers"
    supports_edits = True
    supports_variations = True
    supports_previews = True

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        self.config = parse_options(self.options)
        self.max_batch_images = self.config.max_batch_images
        self.batch_window_s = self.config.batch_window_s
        self._lock = threading.Lock()
        self._pipeline: Any = None
        self._device: str | None = None
        self._dtype_name: str | None = None
        self._family = self.config.family
        self._optimisations: list[str] = []
        self._preloaded: Any = None
        self._derived: dict[str, Any] = {}
        self._previewer: Any = None
        self._encoder: ThreadPoolExecutor | None = None
        self.batches_total = 0
        self.images_total = 0

    # -- sampling settings, resolved from options and the model family ---------------------------

    @property
    def steps(self) -> int:
        if self.config.steps is not None:
            return self.config.steps
        return FAMILIES[self._family or "sd15"].steps

    @property
    def guidance(self) -> float:
        if self.config.guidance is not None:
            return self.config.guidance
        return FAMILIES[self._family or "sd15"].guidance

    def steps_for(self, request: ImageRequest) -> int:
        """`quality_steps` lets a deployment trade speed for quality per request (low = 1 ...)."""
        return self.config.quality_steps.get(request.quality or "", self.steps)

    def supported_sizes(self) -> Sequence[str] | None:
        if self.config.sizes is not None:
            return self.config.sizes
        if self._family is not None:
            return FAMILIES[self._family].sizes
        return None

    def batch_key(self, request: ImageRequest) -> Hashable:
        # Everything that changes the pipeline call; output format and compression do not (they
        # are applied per image after decoding), nor does the number of previews asked for.
        kind = edits.kind_of(request)
        if kind == "generate":
            return (request.size, self.steps_for(request), self.guidance)
        return (
            request.size,
            self.steps_for(request),
            self.guidance,
            kind,
            edits.strength_of(request),
        )

    def pipeline_for(self, kind: str) -> Any:
        """The pipeline drawing `kind` requests; derived ones share the loaded weights."""
        if kind == "generate":
            return self._pipeline
        if kind not in self._derived:
            self._derived[kind] = edits.derive(self._pipeline, kind)
        return self._derived[kind]

    @classmethod
    def from_pipeline(
        cls, pipeline: Any, options: Mapping[str, Any] | None = None
    ) -> DiffusersEngine:
        """An engine over a pipeline already in memory (benchmarks, notebooks, tests); `setup()`
        then applies the device, dtype and optimisation options to it instead of loading."""
        engine = cls({"model": "(in memory)", **dict(options or {})})
        engine._preloaded = pipeline
        return engine

    # -- lifecycle --------------------------------------------------------------------------------

    def setup(self) -> None:
        try:
            import diffusers  # noqa: F401
            import torch  # noqa: F401
        except ImportError as exc:
            raise ConfigError(
                f"the diffusers engine needs torch and diffusers ({exc}); install them with: "
                "pip install 'gouache[diffusers]'"
            ) from exc
        from gouache.engines import diffusers_loading as loading

        with self._lock:
            if self._pipeline is not None:
                return
            started = time.perf_counter()
            device = loading.resolve_device(self.config.device)
            dtype = loading.resolve_dtype(self.config.dtype, device)
            if self._preloaded is not None:
                pipeline, self._preloaded = self._preloaded.to(dtype=dtype), None
            else:
                pipeline = loading.load_pipeline(self.config, dtype)
            if self.config.scheduler:
                loading.set_scheduler(pipeline, self.config.scheduler)
            self._optimisations = loading.optimise(pipeline, self.config, device)
            if self._family is None:
                unet = getattr(pipeline, "unet", None)
                self._family = guess_family(
                    type(pipeline).__name__, self.config.model, dict(getattr(unet, "config", {}))
                )
            self._pipeline = pipeline
            self._device = device
            self._dtype_name = str(dtype).removeprefix("torch.")
            logger.info(
                "diffusers engine loaded %s (%s, family %s) on %s/%s in %.1fs with %s",
                self.config.model,
                type(pipeline).__name__,
                self._family,
                device,
                self._dtype_name,
                time.perf_counter() - started,
                ", ".join(self._optimisations) or "no optimisations",
            )
        if self.config.warmup:
            self._warm_up()

    def _warm_up(self) -> None:
        """Generate before serving, so a model that cannot run at all stops the server at start
        instead of failing requests, and the first user does not pay for kernel selection.

        Compiled graphs are specialised per shape, so with `compile` every batch size of every
        supported size is drawn once here (or those in `warmup_batch_sizes`): minutes at start
        rather than in a user's request.
        """
        sizes = list(self.supported_sizes() or ("512x512",))
        batch_sizes = self.config.warmup_batch_sizes
        if batch_sizes is None:
            batch_sizes = (
                tuple(range(1, self.max_batch_images + 1)) if self.config.compile else (1,)
            )
        if not self.config.compile:
            sizes = sizes[:1]
        shapes = [(size, n) for size in sizes for n in batch_sizes]
        try:
            with self._lock:
                for size, n in shapes:
                    request = ImageRequest(prompt="a warm-up sketch", n=n, size=size, seed=0)
                    self._run([request], min(self.steps, 2), self.guidance)
        except Exception as exc:
            raise ConfigError(
                f"diffusers model {self.config.model!r} failed its warm-up generation "
                f"({exc}); check the model, device and sizes options"
            ) from exc
        self.batches_total = self.images_total = 0

    def close(self) -> None:
        with self._lock:
            self._pipeline = None
            self._derived.clear()
            self._previewer = None
            if self._encoder is not None:
                self._encoder.shutdown()
                self._encoder = None
        try:
            import torch

            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except ImportError:
            pass

    def describe(self) -> dict[str, Any]:
        return {
            "engine": self.name,
            "model": self.config.model,
            "family": self._family,
            "device": self._device,
            "dtype": self._dtype_name,
            "steps": self.steps,
            "guidance": self.guidance,
            "sizes": list(self.supported_sizes() or []),
            "max_batch_images": self.max_batch_images,
            "optimisations": self._optimisations,
            "batches": self.batches_total,
            "images": self.images_total,
        }

    # -- generation -------------------------------------------------------------------------------

    def check(self, request: ImageRequest) -> None:
        """Refuse what this model cannot honour, rather than quietly drawing something else."""
        sizes = self.supported_sizes()
        if sizes is not None and request.size not in sizes:
            raise InvalidRequest(
                f"size {request.size!r} is not supported by this deployment's model "
                f"({self.config.model}); supported sizes: {', '.join(sizes)}",
                param="size",
            )
        if sizes is None and (request.width % 8 or request.height % 8):
            raise InvalidRequest(
                f"size {request.size!r}: width and height must be multiples of 8 for this model",
                param="size",
            )
        if request.background == "transparent":
            raise InvalidRequest(
                "background 'transparent' is not supported by this deployment: its diffusion "
                "model draws opaque images; use background 'opaque' or 'auto'",
                param="background",
            )
        edits.check_inputs(request)

    def generate(
        self, requests: Sequence[ImageRequest], previews: PreviewSink | None = None
    ) -> list[list[GeneratedImage] | GouacheError]:
        for request in requests:
            self.check(request)
            if request.operation != "generate":
                edits.prepared(request)  # refuses a bad mask before any work starts
        if self._pipeline is None:
            self.setup()
        # The job layer sends one batch key per call; group anyway so a mixed call still works.
        groups: dict[Hashable, list[int]] = {}
        for index, request in enumerate(requests):
            groups.setdefault(self.batch_key(request), []).append(index)
        results: list[list[GeneratedImage] | GouacheError] = [[] for _ in requests]
        with self._lock:
            for members in groups.values():
                group = [requests[i] for i in members]
                images = self._run(
                    group, self.steps_for(group[0]), self.guidance, previews, positions=members
                )
                for i in members:
                    mine, images = images[: requests[i].n], images[requests[i].n :]
                    results[i] = self._kept(mine)
        return results

    @staticmethod
    def _kept(images: list[GeneratedImage | None]) -> list[GeneratedImage] | GouacheError:
        """A request whose image the model's safety checker flagged (None) is refused alone;
        the other requests of the batch keep their images."""
        flagged = sum(image is None for image in images)
        if flagged:
            return ContentFiltered(
                "Generated image was filtered as a result of our safety system "
                f"({flagged} of {len(images)} images)."
            )
        return [image for image in images if image is not None]

    def _run(
        self,
        requests: Sequence[ImageRequest],
        steps: int,
        guidance: float,
        previews: PreviewSink | None = None,
        positions: Sequence[int] | None = None,
    ) -> list[GeneratedImage | None]:
        """Draw every image of `requests` (same batch key) in pipeline calls of at most
        `max_batch_images` rows; the caller holds the lock. None marks a flagged image.
        `positions` are the requests' indexes in the caller's batch, for previews."""
        places = list(positions) if positions is not None else list(range(len(requests)))
        rows = [
            _Row(r, r.seed + i, place, i)
            for r, place in zip(requests, places, strict=True)
            for i in range(r.n)
        ]
        out: list[GeneratedImage | None] = []
        for start in range(0, len(rows), self.max_batch_images):
            chunk = rows[start : start + self.max_batch_images]
            n_requests = len({id(row.request) for row in chunk})
            out.extend(self._call(chunk, steps, guidance, n_requests, previews))
        return out

    def _call(
        self,
        rows: list[_Row],
        steps: int,
        guidance: float,
        n_requests: int,
        previews: PreviewSink | None = None,
    ) -> list[GeneratedImage | None]:
        import torch

        first = rows[0].request
        kind = edits.kind_of(first)
        strength = edits.strength_of(first)
        # CPU generators: the starting noise of a seed is the same on every device and GPU model.
        generators = [torch.Generator("cpu").manual_seed(row.seed % 2**64) for row in rows]
        arguments: dict[str, Any] = {
            "prompt": [row.request.prompt for row in rows],
            "num_inference_steps": edits.pipeline_steps(steps, strength),
            "guidance_scale": guidance,
            "generator": generators,
            "output_type": "pil",
        }
        inputs: list[tuple[Any, Any]] = []
        if kind == "generate":
            arguments.update(height=first.height, width=first.width)
        else:
            inputs = [edits.prepared(row.request) for row in rows]
            arguments.update(image=[picture for picture, _ in inputs], strength=strength)
            if kind == "inpaint":
                arguments.update(
                    mask_image=[mask for _, mask in inputs], height=first.height, width=first.width
                )
        callback = self._preview_callback(rows, steps, previews)
        if callback is not None:
            arguments["callback_on_step_end"] = callback
        started = time.perf_counter()
        try:
            output = self.pipeline_for(kind)(**arguments)
        except GouacheError:
            raise
        except Exception as exc:
            raise self._failure(exc, len(rows), first.size) from exc
        elapsed = time.perf_counter() - started
        self.batches_total += 1
        self.images_total += len(rows)
        logger.info(
            "batch of %d requests, %d images at %s, %d steps in %.2fs%s",
            n_requests,
            len(rows),
            first.size,
            steps,
            elapsed,
            "" if kind == "generate" else f" ({kind}, strength {strength:g})",
        )
        flagged = list(getattr(output, "nsfw_content_detected", None) or [False] * len(rows))
        requests = [row.request for row in rows]
        pictures = list(output.images)
        if kind == "inpaint":
            pictures = [
                edits.keep_outside(picture, original, region)
                for picture, (original, region) in zip(pictures, inputs, strict=True)
            ]
        encoded = self._encode(requests, pictures)
        return [
            None
            if is_flagged
            else GeneratedImage(
                data=data,
                media_type=media_type(request.output_format),
                revised_prompt=request.prompt,
            )
            for request, data, is_flagged in zip(requests, encoded, flagged, strict=True)
        ]

    def _preview_callback(self, rows: list[_Row], steps: int, previews: PreviewSink | None) -> Any:
        """A `callback_on_step_end` sending each row's previews after evenly spaced steps, or
        None when nobody asked (no callback at all keeps the plain pipeline's speed)."""
        if previews is None or not any(row.request.partial_images for row in rows):
            return None
        if self._previewer is None:
            from gouache.engines.diffusers_previews import LatentPreviewer

            self._previewer = LatentPreviewer(self._pipeline.vae)
        previewer = self._previewer
        size = (rows[0].request.width, rows[0].request.height)
        sent = [0] * len(rows)

        def on_step_end(pipeline: Any, index: int, timestep: Any, tensors: dict) -> dict:
            total = int(getattr(pipeline, "_num_timesteps", None) or steps)
            done = index + 1
            wanted = [
                i
                for i, row in enumerate(rows)
                if done in preview_steps(total, row.request.partial_images)
            ]
            if wanted:
                latents = tensors["latents"]
                pictures = previewer.project(latents[wanted], size)
                for i, picture in zip(wanted, pictures, strict=True):
                    row = rows[i]
                    previews(Preview(row.place, row.index, sent[i], done / total, picture))
                    sent[i] += 1
            return tensors

        return on_step_end

    def _encode(self, requests: Sequence[ImageRequest], pictures: Sequence[Any]) -> list[bytes]:
        """PNG/JPEG encoding of a batch of 1024x1024 images costs about as much as a turbo
        model's GPU step when done one by one; Pillow releases the GIL while encoding, so a few
        threads divide it."""

        def one(pair: tuple[ImageRequest, Any]) -> bytes:
            request, picture = pair
            return encode_image(picture, request.output_format, request.output_compression)

        pairs = list(zip(requests, pictures, strict=True))
        if len(pairs) == 1:
            return [one(pairs[0])]
        if self._encoder is None:
            self._encoder = ThreadPoolExecutor(
                max_workers=min(8, os.cpu_count() or 1), thread_name_prefix="gouache-encode"
            )
        return list(self._encoder.map(one, pairs))

    def _failure(self, exc: Exception, images: int, size: str) -> Exception:
        import torch

        oom = getattr(torch, "OutOfMemoryError", None) or torch.cuda.OutOfMemoryError
        if isinstance(exc, oom) or "out of memory" in str(exc).lower():
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            return GenerationFailed(
                f"out of GPU memory generating {images} images at {size}; lower "
                "max_batch_images or enable cpu_offload (or vae_tiling) for this deployment"
            )
        return GenerationFailed(
            f"the diffusers pipeline failed on {images} images at {size}: {exc}"
        )
