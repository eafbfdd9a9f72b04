"""Request rules for image edits and variations, checked before any work starts.

The fields an edit shares with a generation (`prompt`, `n`, `size`, `quality`, ...) go through
`validate_generation`, so both refuse the same values with the same words. What is particular to
edits is here: the input images (checked by their content, not their names or declared types),
the mask, `input_fidelity`, `strength`, and which model families take which of them.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, replace
from typing import Any

from gouache.errors import InvalidRequest
from gouache.profiles import Profile
from gouache.validation import GenerationParams, validate_generation

MB = 1024 * 1024
MAX_EDIT_IMAGES = 16
GPT_IMAGE_MAX_BYTES = 50 * MB
DALL_E_MAX_BYTES = 4 * MB
# A decoded input is held in a worker's memory: 36 megapixels is a 6000x6000 photo (144 MB RGBA).
MAX_INPUT_SIDE = 8192
MAX_INPUT_PIXELS = 36_000_000

# Every field an edit may carry, by surface. `seed` and `strength` are gouache extensions.
EDIT_FIELDS = frozenset(
    {
        "image",
        "mask",
        "prompt",
        "model",
        "n",
        "size",
        "quality",
        "background",
        "output_format",
        "output_compression",
        "input_fidelity",
        "response_format",
        "user",
        "safety_identifier",
        "moderation",
        "stream",
        "partial_images",
        "seed",
        "strength",
    }
)
# Azure's deployments route (2025-04-01-preview and later) has no `moderation` and no webp.
AZURE_EDIT_FIELDS = EDIT_FIELDS - {"moderation"}
VARIATION_FIELDS = frozenset(
    {"image", "model", "n", "size", "response_format", "user", "safety_identifier", "seed"}
)
EDIT_ONLY = ("image", "mask", "input_fidelity", "strength")

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
)


@dataclass(frozen=True)
class InputImage:
    """An uploaded image, identified by its bytes."""

    data: bytes
    format: str  # png | jpeg | webp
    width: int
    height: int
    has_alpha: bool
    # masks only: whether any pixel is fully transparent (alpha 0), i.e. there is something to edit
    has_hole: bool = False

    @property
    def description(self) -> str:
        return f"a {self.width}x{self.height} {self.format.upper()} of {_size_text(len(self.data))}"


def _size_text(size: int) -> str:
    return f"{size / MB:.1f} MB" if size >= MB / 10 else f"{math.ceil(size / 1024)} KB"


def sniff_format(data: bytes) -> str | None:
    """png, jpeg or webp from the first bytes; None for anything else."""
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def inspect_image(data: bytes, what: str, param: str) -> InputImage:
    """Read an upload's format, size and alpha from its header (no full decode here: workers
    decode). Refuses what is not a PNG, JPEG or WebP, or is larger than a worker should decode."""
    from PIL import Image, UnidentifiedImageError

    kind = sniff_format(data)
    if kind is None:
        start = data[:8].hex(" ") if data else "nothing"
        raise InvalidRequest(
            f"{what} is not a PNG, JPEG or WebP image (its first bytes are {start}). Upload the "
            "image file itself.",
            param=param,
            code="invalid_image_format",
        )
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            bands = image.getbands()
            has_alpha = "A" in bands or (image.mode == "P" and "transparency" in image.info)
            too_large = max(width, height) > MAX_INPUT_SIDE or width * height > MAX_INPUT_PIXELS
            has_hole = False
            if param == "mask" and has_alpha and not too_large:
                has_hole = image.convert("RGBA").getchannel("A").getextrema()[0] == 0
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidRequest(
            f"{what} looks like a {kind.upper()} but cannot be read ({exc}). Upload an intact "
            "image file.",
            param=param,
            code="invalid_image",
        ) from None
    if too_large:
        raise InvalidRequest(
            f"{what} is {width}x{height} pixels; inputs may be at most {MAX_INPUT_SIDE} pixels "
            f"on a side and {MAX_INPUT_PIXELS // 1_000_000} megapixels. Scale it down first.",
            param=param,
            code="image_too_large",
        )
    return InputImage(data, kind, width, height, has_alpha, has_hole)


def _check_bytes(image: InputImage, limit: int, what: str, param: str, rule: str) -> None:
    if len(image.data) >= limit:
        raise InvalidRequest(
            f"{what} is {_size_text(len(image.data))}; {rule} must be under "
            f"{limit // MB} MB. Compress or scale it down.",
            param=param,
            code="image_too_large",
        )


def _check_dall_e_image(image: InputImage, what: str, where: str) -> None:
    _check_bytes(image, DALL_E_MAX_BYTES, what, "image", f"images for {where}")
    if image.format != "png":
        raise InvalidRequest(
            f"{what} is a {image.format.upper()}; {where} takes one square PNG. Convert it to PNG.",
            param="image",
            code="invalid_image_format",
        )
    if image.width != image.height:
        raise InvalidRequest(
            f"{what} is {image.width}x{image.height}; {where} takes a square image. Crop it to "
            "a square.",
            param="image",
            code="invalid_image_dimensions",
        )


def check_mask(mask: InputImage, first: InputImage) -> None:
    """The spec's mask: a PNG under 4 MB with an alpha channel, the first image's size; its fully
    transparent pixels mark where to edit."""
    _check_bytes(mask, DALL_E_MAX_BYTES, "The mask", "mask", "a mask")
    if mask.format != "png":
        raise InvalidRequest(
            f"The mask is a {mask.format.upper()}; a mask must be a PNG with an alpha channel.",
            param="mask",
            code="invalid_image_format",
        )
    if not mask.has_alpha:
        raise InvalidRequest(
            "The mask has no alpha channel. Its fully transparent pixels (alpha 0) mark where "
            "to edit: save it as a PNG with transparency (RGBA).",
            param="mask",
            code="invalid_mask",
        )
    if (mask.width, mask.height) != (first.width, first.height):
        raise InvalidRequest(
            f"The mask is {mask.width}x{mask.height} but the first image is "
            f"{first.width}x{first.height}; they must be the same size.",
            param="mask",
            code="invalid_mask",
        )
    if not mask.has_hole:
        raise InvalidRequest(
            "The mask has no fully transparent pixels, so there is nothing to edit: make the "
            "area to redraw fully transparent (alpha 0) and leave the rest opaque.",
            param="mask",
            code="invalid_mask",
        )


def _edit_images(images: list[InputImage], profile: Profile, where: str) -> None:
    if not images:
        raise InvalidRequest(
            "'image' is required: upload the image to edit (multipart field 'image', or "
            "'image[]' once per image).",
            param="image",
            code="missing_required_parameter",
        )
    if profile.name == "dall-e-2":
        if len(images) != 1:
            raise InvalidRequest(
                f"{len(images)} images were sent; {where} edits one square PNG. Send one image, "
                "or use a gpt-image-1 deployment for several.",
                param="image",
            )
        _check_dall_e_image(images[0], "The image", where)
        return
    if len(images) > MAX_EDIT_IMAGES:
        raise InvalidRequest(
            f"{len(images)} images were sent; at most {MAX_EDIT_IMAGES} are taken.",
            param="image",
        )
    for index, image in enumerate(images):
        _check_bytes(image, GPT_IMAGE_MAX_BYTES, f"Image {index}", "image", "images")


def _optional_choice(
    fields: dict[str, Any], name: str, allowed: tuple[str, ...], where: str
) -> Any:
    value = fields.get(name)
    if value is None:
        return None
    if not allowed:
        raise InvalidRequest(
            f"'{name}' is not supported by {where}; remove it.",
            param=name,
            code="unsupported_parameter",
        )
    if value not in allowed:
        raise InvalidRequest(
            f"'{name}' must be one of {', '.join(allowed)} for {where}; received {value!r}.",
            param=name,
            code="invalid_value",
        )
    return value


def _strength(fields: dict[str, Any]) -> float | None:
    value = fields.get("strength")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise InvalidRequest(
            f"'strength' (a gouache extension) must be a number greater than 0 and at most 1; "
            f"received {value!r}. Lower keeps more of the input image.",
            param="strength",
            code="invalid_value",
        )
    return float(value)


def validate_edit(
    fields: dict[str, Any],
    images: list[InputImage],
    mask: InputImage | None,
    profile: Profile,
    *,
    deployment: str,
    allowed_fields: frozenset[str] = EDIT_FIELDS,
    surface: str = "this route",
    max_user_length: int = 256,
    openai: bool = False,
) -> GenerationParams:
    """An edit's parameters; raises InvalidRequest for anything the spec or the deployment does
    not allow."""
    where = f"deployment '{deployment}' ({profile.name})"
    if profile.name == "dall-e-3":
        raise InvalidRequest(
            f"{where} cannot edit images: DALL-E 3 has no edit API. Use a gpt-image-1 or "
            "dall-e-2 deployment.",
            param="model",
            code="unsupported_operation",
        )
    _edit_images(images, profile, where)
    if mask is not None:
        check_mask(mask, images[0])
    input_fidelity = _optional_choice(
        fields,
        "input_fidelity",
        ("high", "low") if profile.gpt_image else (),
        where,
    )
    strength = _strength(fields)
    body = {name: value for name, value in fields.items() if name not in EDIT_ONLY}
    params = validate_generation(
        body,
        profile,
        deployment=deployment,
        allowed_fields=allowed_fields,
        surface=surface,
        max_user_length=max_user_length,
        openai=openai,
    )
    return replace(params, operation="edit", input_fidelity=input_fidelity, strength=strength)


def validate_variation(
    fields: dict[str, Any],
    images: list[InputImage],
    profile: Profile,
    *,
    deployment: str,
    surface: str = "/v1/images/variations",
    max_user_length: int = 256,
) -> GenerationParams:
    """A variation: one square PNG under 4 MB, dall-e-2 deployments only, no prompt."""
    where = f"deployment '{deployment}' ({profile.name})"
    if profile.name != "dall-e-2":
        raise InvalidRequest(
            f"{where} cannot make variations: they exist for dall-e-2 deployments only. Use "
            "an edit with a prompt on this deployment instead.",
            param="model",
            code="unsupported_operation",
        )
    if len(images) != 1:
        raise InvalidRequest(
            f"A variation takes exactly one image; received {len(images)}.",
            param="image",
            code="missing_required_parameter" if not images else "invalid_value",
        )
    _check_dall_e_image(images[0], "The image", where)
    if "prompt" in fields:
        raise InvalidRequest(
            "'prompt' is not part of /v1/images/variations: a variation has no prompt. Use "
            "/v1/images/edits to change an image from a prompt.",
            param="prompt",
            code="unsupported_parameter",
        )
    body = {name: value for name, value in fields.items() if name != "image"}
    # the shared rules need a prompt; a variation has none, so one stands in while checking
    params = validate_generation(
        {**body, "prompt": "variation"},
        profile,
        deployment=deployment,
        allowed_fields=VARIATION_FIELDS | {"prompt"},
        surface=surface,
        max_user_length=max_user_length,
        openai=True,
    )
    return replace(params, prompt="", operation="variation")
