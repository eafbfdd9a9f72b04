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
# `safety_identifier` is the newer SDKs' name for the end-user id (`user`); see docs/compatibility.md
# `stream`/`partial_images`: Azure documents streaming for gpt-image-1 deployments without naming
# an api-version; gouache offers it from 2025-04-01-preview on (docs/compatibility.md)
PREVIEW_FIELDS = GA_FIELDS | {
    "background",
    "output_compression",
    "output_format",
    "safety_identifier",
    "stream",
    "partial_images",
}
OPENAI_FIELDS = PREVIEW_FIELDS | {"moderation"}
MAX_PARTIAL_IMAGES = 3
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
    moderation: str | None = None
    safety_identifier: str | None = None
    # edits and variations (gouache.edits): the operation, its stored inputs, their controls
    operation: str = "generate"
    inputs: tuple[str, ...] = ()
    mask: str | None = None
    input_fidelity: str | None = None
    strength: float | None = None
    # answer as Server-Sent Events, with up to `partial_images` previews per image
    stream: bool = False
    partial_images: int = 0

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


# No field of any image API nests: a body deeper than this is refused before anything walks it
# (Python's json module would otherwise recurse until RecursionError on a few thousand `[`).
MAX_JSON_DEPTH = 16
# The largest number any field takes is a 32-bit seed; longer literals are refused while parsing,
# before Python turns thousands of digits into an int.
MAX_NUMBER_DIGITS = 20


def _too_long_number(text: str) -> InvalidRequest:
    return InvalidRequest(
        f"The request body has a number with {len(text)} characters ({text[:12]}...); numbers in "
        f"these APIs have at most {MAX_NUMBER_DIGITS} digits. Send the value your field allows.",
        code="invalid_json",
    )


def _parse_int(text: str) -> int:
    if len(text) > MAX_NUMBER_DIGITS:
        raise _too_long_number(text)
    return int(text)


def _parse_float(text: str) -> float:
    if len(text) > 2 * MAX_NUMBER_DIGITS:
        raise _too_long_number(text)
    return float(text)


def _refuse_constant(name: str) -> Any:
    raise InvalidRequest(
        f"The request body contains {name}, which is not JSON. Send numbers as plain digits.",
        code="invalid_json",
    )


def _check_tree(body: dict[str, Any]) -> None:
    """Depth and text checks over the parsed body, without recursion.

    A lone UTF-16 surrogate (`"\\ud800"`) is valid JSON but not a character: it cannot be stored,
    logged or echoed as UTF-8, so it is refused here, naming the top-level field it sits in."""
    stack: list[tuple[str | None, Any, int]] = [(None, body, 1)]
    while stack:
        field_name, value, depth = stack.pop()
        if isinstance(value, str):
            _check_text(field_name, value)
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            raise InvalidRequest(
                f"The request body nests objects or arrays more than {MAX_JSON_DEPTH} levels "
                "deep; the image APIs take a flat JSON object of plain values.",
                param=field_name,
                code="invalid_json",
            )
        items = value.items() if isinstance(value, dict) else ((None, item) for item in value)
        for key, item in items:
            if key is not None:
                _check_text(field_name, key)
            stack.append((field_name or key, item, depth + 1))


def _check_text(field_name: str | None, text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        where = f"'{field_name}'" if field_name else "The request body"
        bad = text[exc.start]
        raise InvalidRequest(
            f"{where} contains an unpaired UTF-16 surrogate (\\u{ord(bad):04x}), which is not a "
            "character. Send valid Unicode text (surrogates only come in high-low pairs).",
            param=field_name,
            code="invalid_value" if field_name else "invalid_json",
        ) from None


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object, or a 400 that says what is wrong with it.

    Nothing a client can send gets past this as an exception other than `InvalidRequest`:
    depth, number length, NaN/Infinity and unpaired surrogates are all refused here."""
    if not raw.strip():
        raise InvalidRequest(
            "The request body is empty; send a JSON object such as "
            '{"prompt": "a red running shoe on a white background"}.',
            code="invalid_json",
        )
    try:
        body = json.loads(
            raw,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_refuse_constant,
        )
    except RecursionError:
        raise InvalidRequest(
            f"The request body nests objects or arrays more than {MAX_JSON_DEPTH} levels deep; "
            "the image APIs take a flat JSON object of plain values.",
            code="invalid_json",
        ) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequest(
            f"The request body is not valid JSON ({exc}). Send a JSON object with at least "
            '"prompt".',
            code="invalid_json",
        ) from None
    if not isinstance(body, dict):
        raise InvalidRequest(
            f"The request body must be a JSON object; received {_kind(body)}.", code="invalid_json"
        )
    _check_tree(body)
    return body


def model_name(body: dict[str, Any]) -> str | None:
    """`model` as sent: a deployment name, or None when absent or null.

    Anything else (an object, a number, an empty string) is a 400, never a quiet fall-back to the
    default deployment."""
    model = body.get("model")
    if model is None:
        return None
    if not isinstance(model, str):
        raise _bad(
            "model",
            f"'model' must be a string naming a deployment; received {_kind(model)}.",
            "invalid_type",
        )
    if not model.strip():
        raise _bad(
            "model",
            "'model' must not be empty: name a deployment, or leave 'model' out for the default.",
        )
    return model


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
        raise _bad(name, f"'{name}' must be from {low} to {high}; received {_show(value)}.")
    return value


def validate_generation(
    body: dict[str, Any],
    profile: Profile,
    *,
    deployment: str,
    allowed_fields: frozenset[str] = ALL_FIELDS,
    surface: str = "this route",
    max_user_length: int = 256,
    openai: bool = False,
) -> GenerationParams:
    """`openai`: the request came through an OpenAI-shaped route (/v1, /openai/v1), whose limits
    differ from Azure's operation API in places (dall-e-2 takes up to 10 images there)."""
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

    model_name(body)
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

    n = _integer(body, "n", 1, profile.max_n_on(openai), 1)
    assert n is not None

    requested = _choice(body, "size", profile.sizes, profile.default_size, where)
    size = profile.auto_size if requested == "auto" else requested
    assert size is not None

    response_format = _choice(
        body, "response_format", profile.response_formats, profile.default_response_format, where
    )

    user = end_user(body, "user", max_user_length)
    safety_identifier = end_user(body, "safety_identifier", max_user_length)

    quality = _choice(body, "quality", profile.qualities, profile.default_quality, where)
    style = _choice(body, "style", profile.styles, profile.default_style, where)
    background = _choice(body, "background", profile.backgrounds, None, where)
    output_format = _choice(body, "output_format", profile.output_formats, "png", where)
    if output_format == "webp" and "moderation" not in allowed_fields:
        raise _bad(
            "output_format",
            "'output_format' webp is only offered on /v1 (OpenAI); Azure allows png or jpeg.",
        )
    moderation = moderation_level(body, profile, where)
    stream, partial_images = streaming(body, profile, where, allowed_fields)

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
        # the newest SDKs say a non-empty safety_identifier takes precedence over `user`
        user=safety_identifier or user,
        quality=quality,
        style=style,
        background=background,
        output_format=output_format,
        output_compression=compression,
        seed=seed,
        moderation=moderation,
        safety_identifier=safety_identifier,
        stream=stream,
        partial_images=partial_images,
    )


def streaming(
    body: dict[str, Any], profile: Profile, where: str, allowed_fields: frozenset[str] = ALL_FIELDS
) -> tuple[bool, int]:
    """`stream` and `partial_images` (0..3): streaming is for the GPT image models, as the spec
    says, and on a route that streams, previews need a stream to travel in. On Azure's operation
    API, which never streams, `partial_images` is a gouache extension: the previews are shown by
    the operation's events route (`GET /openai/operations/images/{id}/events`)."""
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise _bad(
            "stream", f"'stream' must be true or false; received {_show(stream)}.", "invalid_type"
        )
    partial_images = _integer(body, "partial_images", 0, MAX_PARTIAL_IMAGES, 0)
    assert partial_images is not None
    if stream and not profile.gpt_image:
        raise _bad(
            "stream",
            f"Streaming is offered for GPT image deployments only, not for {where}; omit "
            "'stream' or use a gpt-image-1 deployment.",
            "unsupported_parameter",
        )
    if partial_images and not stream and "stream" in allowed_fields:
        raise _bad(
            "partial_images",
            f"'partial_images' is {partial_images} but 'stream' is not true: previews are sent "
            'as events of a stream. Add "stream": true, or remove partial_images.',
            "invalid_value",
        )
    return bool(stream), partial_images


def end_user(body: dict[str, Any], name: str, max_length: int) -> str | None:
    """An end-user id (`user` or `safety_identifier`): a string of bounded length, or None."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _bad(name, f"'{name}' must be a string; received {_kind(value)}.", "invalid_type")
    if len(value) > max_length:
        raise _bad(
            name,
            f"'{name}' is {len(value)} characters; at most {max_length} are kept. Send a "
            "shorter end-user id (a hash of it works well).",
            "string_above_max_length",
        )
    return value


def moderation_level(body: dict[str, Any], profile: Profile, where: str) -> str | None:
    """`moderation` (low|auto) for the GPT image models, recorded with the operation ("auto" when
    not sent); refused for the DALL-E models, which never had it."""
    if body.get("moderation") is None:
        return "auto" if profile.gpt_image else None
    if not profile.gpt_image:
        raise _bad(
            "moderation",
            f"'moderation' applies to the GPT image models only, not to {where}; remove it.",
            "unsupported_parameter",
        )
    return _choice(body, "moderation", ("low", "auto"), "auto", where)
