"""The engine contract.

An engine is constructed from plain options (cheap, no I/O), loads weights once in `setup()`, then
`generate()` turns a batch of requests into encoded images. It knows nothing of HTTP, the store or
storage: the job layer claims operations, groups them into batches the engine accepts, and keeps the
bytes it returns. Built-in engines register exactly like a third-party one would.
"""

from __future__ import annotations

import io
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from gouache.errors import GouacheError, InvalidRequest

if TYPE_CHECKING:
    from PIL import Image

OPERATIONS = ("generate", "edit", "variation")
MAX_PARTIAL_IMAGES = 3


@dataclass(frozen=True, slots=True)
class ImageRequest:
    """What one operation asks of an engine; wire names kept (`prompt`, `n`, `size`, ...).

    `seed` is always set by the job layer (random when the user gave none), and image `i` of the
    request is drawn with seed `seed + i`, so batching requests together does not change what an
    image shows (a GPU model's batched kernels may still differ in the last bit of a few pixels).

    Edits and variations use the same request (every default keeps a plain generation):

    - `operation`: "generate", "edit" (prompt + `images`, optionally a `mask`) or "variation"
      (one image, the prompt may be empty).
    - `images`: the input images, encoded bytes or decoded Pillow images; the mask applies to
      the first. Bytes are what the job layer stores, so a request can be rebuilt in another
      process from the operation's stored inputs.
    - `mask`: the API's convention, not any model's: where its alpha is 0, the image is edited;
      everywhere else it is kept. The mask has the first image's size.
    - `strength`: how far an edit may move away from the input, 0 < strength <= 1 (an extension
      field; None lets the engine choose).
    - `partial_images`: how many progress previews (0..3) the caller would like per image; only
      engines with `supports_previews` send any, through the `previews` sink of `run_batch`.
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
    operation: str = "generate"
    images: tuple[Any, ...] = ()
    mask: Any = None
    strength: float | None = None
    input_fidelity: str | None = None
    partial_images: int = 0  # None is read as 0

    def __post_init__(self) -> None:
        # The API validates first with wire-level messages; this guards engines against a job
        # layer (or a script) building a request that no engine could honour.
        if self.operation not in OPERATIONS:
            raise InvalidRequest(
                f"operation {self.operation!r} is not one of {', '.join(OPERATIONS)}",
                param="operation",
            )
        if self.partial_images is None:  # stored operations may carry the field as null
            object.__setattr__(self, "partial_images", 0)
        if not isinstance(self.images, tuple):
            object.__setattr__(self, "images", tuple(self.images))
        if self.operation == "generate" and (self.images or self.mask is not None):
            raise InvalidRequest(
                "a generation takes no input images or mask; use operation 'edit'", param="image"
            )
        if self.operation != "generate" and not self.images:
            raise InvalidRequest(
                f"an {self.operation} needs at least one input image, got none", param="image"
            )
        if self.operation == "variation" and (len(self.images) != 1 or self.mask is not None):
            raise InvalidRequest(
                f"a variation takes exactly one image and no mask, got {len(self.images)} "
                f"image(s){' and a mask' if self.mask is not None else ''}",
                param="image",
            )
        if self.strength is not None and not 0 < self.strength <= 1:
            raise InvalidRequest(
                f"strength must be greater than 0 and at most 1, got {self.strength}",
                param="strength",
            )
        if not 0 <= self.partial_images <= MAX_PARTIAL_IMAGES:
            raise InvalidRequest(
                f"partial_images must be between 0 and {MAX_PARTIAL_IMAGES}, "
                f"got {self.partial_images}",
                param="partial_images",
            )

    @property
    def width(self) -> int:
        return int(self.size.split("x")[0])

    @property
    def height(self) -> int:
        return int(self.size.split("x")[1])

    def input_pictures(self) -> list[Image.Image]:
        """The input images decoded (Pillow), in order."""
        return [decode_input(image, f"image {i}") for i, image in enumerate(self.images)]

    def mask_picture(self) -> Image.Image | None:
        """The mask decoded, or None when there is none."""
        return None if self.mask is None else decode_input(self.mask, "mask")

    def edit_region(self, first: Image.Image | None = None) -> Image.Image | None:
        """The mask as a single-channel image of the first image's size: 255 where the edit
        may paint (the mask's alpha is 0), 0 where the input must be kept; None with no mask.

        A mask without an alpha channel is refused rather than guessed at: the API's convention
        is transparency, and a black-and-white mask means opposite things in different tools.
        `first` is the first input image when the caller has decoded it already.
        """
        mask = self.mask_picture()
        if mask is None:
            return None
        if first is None:
            first = decode_input(self.images[0], "image 0")
        if mask.size != first.size:
            raise InvalidRequest(
                f"the mask is {mask.width}x{mask.height} but the first image is "
                f"{first.width}x{first.height}; they must be the same size",
                param="mask",
            )
        if "A" not in mask.getbands() and not (mask.mode == "P" and "transparency" in mask.info):
            raise InvalidRequest(
                f"the mask has no alpha channel (mode {mask.mode}); use a PNG whose fully "
                "transparent pixels mark where to edit",
                param="mask",
            )
        alpha = mask.convert("RGBA").getchannel("A")
        return alpha.point(lambda a: 255 if a == 0 else 0)


def decode_input(image: Any, what: str = "image") -> Image.Image:
    """An input image as a loaded Pillow image, from encoded bytes or a Pillow image."""
    from PIL import Image, UnidentifiedImageError

    if isinstance(image, Image.Image):
        return image
    if isinstance(image, bytes | bytearray | memoryview):
        try:
            decoded = Image.open(io.BytesIO(bytes(image)))
            decoded.load()
        except (UnidentifiedImageError, OSError) as exc:
            raise InvalidRequest(
                f"{what} is not a readable PNG, JPEG or WebP image ({exc})", param="image"
            ) from exc
        return decoded
    raise TypeError(f"{what} must be bytes or a PIL image, got {type(image).__name__}")


@dataclass(frozen=True, slots=True)
class Preview:
    """A look at an image while it is being made, sent to the `previews` sink of `run_batch`.

    `request_index` and `image_index` say which image of the batch it belongs to;
    `partial_image_index` counts that image's previews from 0 (the wire field of the same name);
    `progress` is the fraction of the work done, 0 < progress < 1. The picture is a real
    intermediate state, never the finished image sent early. `encode()` gives its bytes, so a sink
    can put it in the store for an API process elsewhere to stream.
    """

    request_index: int
    image_index: int
    partial_image_index: int
    progress: float
    image: Image.Image

    def encode(self, output_format: str = "png", compression: int | None = None) -> bytes:
        from gouache.engines.encoding import encode_image

        return encode_image(self.image, output_format, compression)


PreviewSink = Callable[[Preview], None]


def preview_steps(total: int, partial_images: int) -> list[int]:
    """The steps (1-based, of `total`) after which to send previews: `partial_images` of them,
    evenly spaced and all before the last step, so no preview is the finished image.
    Fewer when there are not enough steps (a 1-step model has nothing in between to show)."""
    if total < 2 or partial_images <= 0:
        return []
    steps = {max(1, (k * total) // (partial_images + 1)) for k in range(1, partial_images + 1)}
    return sorted(step for step in steps if step < total)


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
    # What the engine can do besides generating. The API refuses an edit, a variation or a
    # preview stream up front for a deployment whose engine says False, and `run_batch` refuses
    # such requests rather than let an engine treat them as plain generations.
    supports_edits: ClassVar[bool] = False
    supports_variations: ClassVar[bool] = False
    supports_previews: ClassVar[bool] = False

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
        one request's image, say), put a `GouacheError` in that request's place instead.

        An engine that sets `supports_previews` also accepts a keyword argument
        `previews: PreviewSink | None = None` and calls it with each `Preview` it makes, for the
        requests whose `partial_images` asks for them. The sink may be slow (it may write to a
        database), so call it between steps, not while holding a device busy on a timer."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what `setup` took."""

    def run_batch(
        self, requests: Sequence[ImageRequest], previews: PreviewSink | None = None
    ) -> list[list[GeneratedImage] | GouacheError]:
        """What the job layer calls: `generate`, with previews only for engines that send them.

        Engines written before edits existed keep their `generate(requests)` signature; an engine
        with `supports_previews` takes `generate(requests, previews=...)`. A request this engine
        cannot serve (an edit to an engine without `supports_edits`, say) gets its own error in
        its place, and the rest of the batch runs.
        """
        refusals = [self.refusal(request) for request in requests]
        runnable = [r for r, refused in zip(requests, refusals, strict=True) if refused is None]
        outputs: list[list[GeneratedImage] | GouacheError] = []
        if runnable:
            if previews is not None and self.supports_previews:
                positions = [i for i, refused in enumerate(refusals) if refused is None]

                def renumbered(preview: Preview) -> None:
                    # The engine counts requests within what it was given; the caller, within
                    # what it asked for.
                    previews(
                        Preview(
                            positions[preview.request_index],
                            preview.image_index,
                            preview.partial_image_index,
                            preview.progress,
                            preview.image,
                        )
                    )

                outputs = list(self.generate(runnable, previews=renumbered))  # type: ignore[call-arg]
            else:
                outputs = list(self.generate(runnable))
            if len(outputs) != len(runnable):
                raise RuntimeError(
                    f"engine {self.name} returned {len(outputs)} results for {len(runnable)}"
                )
        drawn = iter(outputs)
        return [next(drawn) if refused is None else refused for refused in refusals]

    def refusal(self, request: ImageRequest) -> GouacheError | None:
        """Why this engine cannot serve `request` at all, or None when it can."""
        if request.operation == "edit" and not self.supports_edits:
            return InvalidRequest(
                f"this deployment's engine ({self.name}) cannot edit images; send the edit to a "
                "deployment whose engine supports edits (builtin, diffusers or forward)",
                param="image",
            )
        if request.operation == "variation" and not self.supports_variations:
            return InvalidRequest(
                f"this deployment's engine ({self.name}) cannot make variations of an image; "
                "send it to a deployment whose engine supports variations",
                param="image",
            )
        return None

    def batch_key(self, request: ImageRequest) -> Hashable:
        """Requests with equal keys may share one `generate` call."""
        return (request.size, request.quality, request.output_format, request.operation)

    def supported_sizes(self) -> Sequence[str] | None:
        """Sizes this engine can draw natively, or None for any size the deployment offers."""
        return None

    def describe(self) -> dict[str, Any]:
        """What `/readyz` and logs show about this engine."""
        return {"engine": self.name}
