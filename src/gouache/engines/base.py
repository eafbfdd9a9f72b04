"""The engine contract.

An engine is constructed from plain options (cheap, no I/O), loads weights once in `setup()`, then
`generate()` turns a batch of requests into encoded images. It knows nothing of HTTP, the store or
storage: the job layer claims operations, groups them into batches the engine accepts, and keeps the
bytes it returns. Built-in engines register exactly like a third-party one would.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from gouache.errors import GouacheError


@dataclass(frozen=True, slots=True)
class ImageRequest:
    """What one operation asks of an engine; wire names kept (`prompt`, `n`, `size`, ...).

    `seed` is always set by the job layer (random when the user gave none), and image `i` of the
    request is drawn with seed `seed + i`, so batching requests together does not change what an
    image shows (a GPU model's batched kernels may still differ in the last bit of a few pixels).
    """

    prompt: str
    n: int
    size: str
    seed: int
    quality: str | None = None
    style: str | None = None
    background: str | None = None
    output_format: str = "png"
    output_compression: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def width(self) -> int:
        return int(self.size.split("x")[0])

    @property
    def height(self) -> int:
        return int(self.size.split("x")[1])


@dataclass(frozen=True, slots=True)
class GeneratedImage:
    """One encoded image, ready to store or return as base64."""

    data: bytes
    media_type: str = "image/png"
    revised_prompt: str | None = None


class Engine(ABC):
    """Base class of every engine.

    Class attributes tune how the job layer feeds the engine: `max_batch_images` caps the number of
    images in one `generate` call (sum of `n` over the batch), and `batch_window_s` is how long the
    worker waits for more compatible operations before running a partial batch.
    """

    name: ClassVar[str] = "engine"
    # True: one instance serves every worker thread of every deployment that names this engine
    # with equal options (`create_engine` hands out the same object), so it must be safe to call
    # from several threads, `setup()` must load once however often it is called, and `close()`,
    # called once per worker, must leave it usable.
    shared: ClassVar[bool] = False
    max_batch_images: int = 1
    batch_window_s: float = 0.0

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        self.options: dict[str, Any] = dict(options or {})
        # Every engine's batching can be tuned from its deployment's options.
        if "max_batch_images" in self.options:
            self.max_batch_images = int(self.options["max_batch_images"])
        if "batch_window_s" in self.options:
            self.batch_window_s = float(self.options["batch_window_s"])

    def setup(self) -> None:  # noqa: B027 - optional hook; most light engines load nothing
        """Load weights and warm up; called once per worker before the first request."""

    @abstractmethod
    def generate(
        self, requests: Sequence[ImageRequest]
    ) -> list[list[GeneratedImage] | GouacheError]:
        """Draw `request.n` images for every request of the batch, in order.

        Raising fails every operation of the batch. To fail only some (a safety checker flagging
        one request's image, say), put a `GouacheError` in that request's place instead."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what `setup` took."""

    def batch_key(self, request: ImageRequest) -> Hashable:
        """Requests with equal keys may share one `generate` call."""
        return (request.size, request.quality, request.output_format)

    def supported_sizes(self) -> Sequence[str] | None:
        """Sizes this engine can draw natively, or None for any size the deployment offers."""
        return None

    def describe(self) -> dict[str, Any]:
        """What `/readyz` and logs show about this engine."""
        return {"engine": self.name}
