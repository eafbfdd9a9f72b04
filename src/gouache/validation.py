"""Request rules, checked before any work starts.

Shared by the HTTP API and `gouache generate`, so the service and the CLI refuse the same inputs
with the same words. Every message says what was received, what is allowed, and how to fix it;
nothing is ever "fixed up" silently.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from gouache.errors import InvalidRequest
from gouache.profiles import Profile

MAX_SEED = 2**32 - 1

# Fields each wire surface defines. `model` is sent by the openai SDK even on Azure's deployment
# route (it names the deployment); `seed` is gouache's own extension everywhere.
ASYNC_FIELDS = frozenset({"prompt", "n", "size", "response_format", "user", "model", "seed"})
GA_FIELDS = frozenset(
    {"prompt", "n", "size", "response_format", "user", "quality", "style", "model", "seed"}
)
PREVIEW_FIELDS = GA_FIELDS | {"background", "output_compression", "output_format"}
OPENAI_FIELDS = PREVIEW_FIELDS | {"moderation", "stream", "partial_images"}
ALL_FIELDS = OPENAI_FIELDS


@dataclass(frozen=True)
class GenerationParams:
    prompt: str
    n: int
    size: str
    response_format: str
    user: str | None = None
    quality: str | None = None
    style: str | None = None
    background: str | None = None
    output_format: str = "png"
    output_compression: int | None = None
    seed: int | None = None
    requested_size: str | None = None

    def to_record(self) -> dict[str, Any]:
        return asdict(self)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _show(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _bad(param: str, message: str, code: str = "invalid_value") -> InvalidRequest:
    return InvalidRequest(message, param=param, code=code)


def parse_json_object(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        raise InvalidRequest(
            "The request body is empty; send a JSON object such as "
            '{"prompt": "a red running shoe on a white background"}.',
            code="invalid_json",
        )
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidRequest(
            f"The request body is not valid JSON ({exc}). Send a JSON object with at least "
            '"prompt".',
            code="invalid_json",
        ) from exc
    if not isinstance(body, dict):
        raise InvalidRequest(
            f"The request body must be a JSON object; received {_kind(body)}.", code="invalid_json"
        )
    return body


def _choice(
    body: dict[str, Any], name: str, allowed: tuple[str, ...], default: Any, where: str
) -> Any:
    if name not in body or body[name] is None:
        return default
    value = body[name]
    if not isinstance(value, str) or value not in allowed:
        if not allowed:
            raise _bad(
                name, f"'{name}' is not supported by {where}; remove it.", "unsupported_parameter"
            )
        raise _bad(
            name,
            f"'{name}' must be one of {', '.join(allowed)} for {where}; received {_show(value)}.",
        )
    return value


def _integer(
    body: dict[str, Any], name: str, low: int, high: int, default: int | None
) -> int | None:
    if name not in body or body[name] is None:
        return default
    value = body[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(
            name,
            f"'{name}' must be an integer from {low} to {high}; received {_show(value)} "
            f"({_kind(value)}).",
            "invalid_type",
        )
    if not low <= value <= high:
        raise _bad(name, f"'{name}' must be from {low} to {high}; received {value}.")
    return value


def validate_generation(
    body: dict[str, Any],
    profile: Profile,
    *,
    deployment: str,
    allowed_fields: frozenset[str] = ALL_FIELDS,
    surface: str = "this route",
    max_user_length: int = 256,
) -> GenerationParams:
    where = f"deployment '{deployment}' ({profile.name})"
    unknown = sorted(set(body) - ALL_FIELDS)
    if unknown:
        raise _bad(
            unknown[0],
            f"Unrecognized request argument supplied: {unknown[0]}. Allowed: "
            f"{', '.join(sorted(allowed_fields))}.",
            "unknown_parameter",
        )
    not_here = sorted(name for name in set(body) - allowed_fields if body[name] is not None)
    if not_here:
        raise _bad(
            not_here[0],
            f"'{not_here[0]}' is not part of {surface}; allowed fields: "
            f"{', '.join(sorted(allowed_fields))}.",
            "unsupported_parameter",
        )

    prompt = body.get("prompt")
    if prompt is None:
        raise _bad(
            "prompt",
            "'prompt' is required: describe the image to generate.",
            "missing_required_parameter",
        )
    if not isinstance(prompt, str):
        raise _bad(
            "prompt", f"'prompt' must be a string; received {_kind(prompt)}.", "invalid_type"
        )
    if not prompt.strip():
        raise _bad("prompt", "'prompt' must not be empty: describe the image to generate.")
    if len(prompt) > profile.prompt_max:
        raise _bad(
            "prompt",
            f"'prompt' is {len(prompt)} characters; the maximum for {where} is "
            f"{profile.prompt_max}. Shorten it.",
            "string_above_max_length",
        )

    n = _integer(body, "n", 1, profile.max_n, 1)
    assert n is not None

    requested = _choice(body, "size", profile.sizes, profile.default_size, where)
    size = profile.auto_size if requested == "auto" else requested
    assert size is not None

    response_format = _choice(
        body, "response_format", profile.response_formats, profile.default_response_format, where
    )

    user = body.get("user")
    if user is not None:
        if not isinstance(user, str):
            raise _bad("user", f"'user' must be a string; received {_kind(user)}.", "invalid_type")
        if len(user) > max_user_length:
            raise _bad(
                "user",
                f"'user' is {len(user)} characters; at most {max_user_length} are kept. Send a "
                "shorter end-user id (a hash of it works well).",
                "string_above_max_length",
            )

    quality = _choice(body, "quality", profile.qualities, profile.default_quality, where)
    style = _choice(body, "style", profile.styles, profile.default_style, where)
    background = _choice(body, "background", profile.backgrounds, None, where)
    output_format = _choice(body, "output_format", profile.output_formats, "png", where)
    if output_format == "webp" and "moderation" not in allowed_fields:
        raise _bad(
            "output_format",
            "'output_format' webp is only offered on /v1 (OpenAI); Azure allows png or jpeg.",
        )
    if "moderation" in body and body["moderation"] is not None:
        _choice(body, "moderation", ("low", "auto"), None, where)
    if body.get("stream") not in (None, False):
        raise _bad(
            "stream",
            "Streaming image generation is not supported; omit 'stream'.",
            "unsupported_parameter",
        )
    if body.get("partial_images") not in (None, 0):
        raise _bad(
            "partial_images",
            "'partial_images' needs streaming, which is not supported.",
            "unsupported_parameter",
        )

    compression = None
    if body.get("output_compression") is not None:
        if not profile.accepts_compression:
            raise _bad(
                "output_compression",
                f"'output_compression' is not supported by {where}.",
                "unsupported_parameter",
            )
        compression = _integer(body, "output_compression", 0, 100, None)
        if output_format == "png":
            raise _bad(
                "output_compression",
                "'output_compression' applies to output_format jpeg or webp; PNG is lossless. "
                "Set output_format or remove output_compression.",
            )
    if background == "transparent" and output_format == "jpeg":
        raise _bad("background", "A transparent background needs output_format png or webp.")

    seed = _integer(body, "seed", 0, MAX_SEED, None)

    return GenerationParams(
        prompt=prompt,
        n=n,
        size=size,
        requested_size=requested,
        response_format=response_format,
        user=user,
        quality=quality,
        style=style,
        background=background,
        output_format=output_format,
        output_compression=compression,
        seed=seed,
    )
