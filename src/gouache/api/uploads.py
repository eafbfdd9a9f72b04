"""Reading an edit's or a variation's body: a multipart form with files, or JSON with image URLs.

Both are capped at `max_upload_bytes` while they arrive (a declared length over the cap is refused
before reading, and a body that grows past it is cut off). Multipart files are spooled to
temporary files on disk by the form parser, never held whole in memory while parsing; the parser
is also limited in how many files and fields it accepts and how long a text field may be.

The JSON form takes `image_url` as a base64 data URL. A remote `http(s)` URL is fetched only when
its host is on the operator's `image_url_hosts` allow-list, over https, with a timeout and a size
cap: a server that fetches any URL it is given is an SSRF hole.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from gouache.api.body import UnsupportedMediaType, is_json_type, read_json
from gouache.errors import Forbidden, InvalidRequest, PayloadTooLarge
from gouache.settings import Settings

MAX_FILES = 17  # 16 images and a mask
MAX_FIELDS = 40
MAX_TEXT_FIELD_BYTES = 256 * 1024  # a 32 000-character prompt in any script fits
FETCH_TIMEOUT_S = 10.0
FETCH_MAX_BYTES = 50 * 1024 * 1024

INTEGER_FIELDS = frozenset({"n", "output_compression", "partial_images", "seed"})
NUMBER_FIELDS = frozenset({"strength"})
BOOLEAN_FIELDS = frozenset({"stream"})
_IMAGE_FIELD = re.compile(r"^image(\[\d{0,2}\])?$")
_INTEGER = re.compile(r"^-?\d{1,20}$")
_NUMBER = re.compile(r"^-?(\d{1,20}(\.\d{0,20})?|\.\d{1,20})$")
_DATA_URL = re.compile(r"^data:(?P<type>[\w.+-]+/[\w.+-]+)?(;[\w-]+=[\w.-]+)*;base64,", re.I)


@dataclass
class UploadForm:
    """The fields as typed values (numbers and booleans read from the form's text), the image
    files in order, the mask, and whether it came as JSON."""

    fields: dict[str, Any] = field(default_factory=dict)
    images: list[bytes] = field(default_factory=list)
    mask: bytes | None = None
    json: bool = False


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


async def read_upload(request: Request, settings: Settings, *, json_allowed: bool) -> UploadForm:
    """The body of an edit or a variation, from either form."""
    kind = media_type(request)
    if kind == "multipart/form-data":
        check_form_origin(request, settings)
        return await read_multipart(request, settings.max_upload_bytes)
    if json_allowed and is_json_type(request.headers.get("content-type", "")):
        return await read_json_upload(request, settings)
    accepted = "multipart/form-data" + (" or application/json" if json_allowed else "")
    received = f"'{kind}'" if kind else "no content-type header"
    raise UnsupportedMediaType(
        f"This route takes {accepted}; received {received}. Send the image as a file "
        "(curl: -F 'image=@photo.png' -F 'prompt=...').",
    )


def check_form_origin(request: Request, settings: Settings) -> None:
    """A browser sends a multipart form to any origin without asking first, so a page on another
    site could start edits on a server without keys. Browsers name the page's origin in `Origin`
    on every cross-origin POST: a form whose origin is neither this server's own (the Host it was
    reached at) nor one of `cors_origins` is refused before its body is read. Clients that are not
    browsers send no `Origin` and are not affected."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    parts = urlsplit(origin)
    own = parts.netloc.lower() == request.headers.get("host", "").lower()
    if own or origin.rstrip("/") in {o.rstrip("/") for o in settings.cors_origins}:
        return
    raise Forbidden(
        f"A form from the web page at {origin} may not post to this server: only its own pages "
        "and the origins in cors_origins may. Send the request from a program (no Origin header) "
        "or add the origin to cors_origins.",
        code="origin_not_allowed",
    )


def _check_declared(request: Request, limit: int) -> None:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
        raise PayloadTooLarge(
            f"The request body is {declared} bytes; the limit for uploads is {limit} bytes "
            "(max_upload_bytes)."
        )


async def _capped(request: Request, limit: int) -> AsyncIterator[bytes]:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(
                f"The request body is over the limit for uploads of {limit} bytes "
                "(max_upload_bytes)."
            )
        yield chunk


def _typed(name: str, text: str) -> Any:
    """A form value as the JSON type its field has; text that does not fit stays text, so the
    field's own check names it."""
    if name in INTEGER_FIELDS and _INTEGER.match(text):
        return int(text)
    if name in NUMBER_FIELDS and _NUMBER.match(text):
        return float(text)
    if name in BOOLEAN_FIELDS and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


async def read_multipart(request: Request, limit: int) -> UploadForm:
    _check_declared(request, limit)
    parser = MultiPartParser(
        request.headers,
        _capped(request, limit),
        max_files=MAX_FILES,
        max_fields=MAX_FIELDS,
        max_part_size=MAX_TEXT_FIELD_BYTES,
    )
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise InvalidRequest(
            f"The multipart body could not be read: {exc.message} Send at most "
            f"{MAX_FILES - 1} images and a mask, text fields under "
            f"{MAX_TEXT_FIELD_BYTES // 1024} KB.",
            code="invalid_multipart",
        ) from None
    try:
        return await _collect(form.multi_items())
    finally:
        await form.close()


async def _collect(items: list[tuple[str, Any]]) -> UploadForm:
    upload = UploadForm()
    for name, value in items:
        is_file = isinstance(value, UploadFile)
        if _IMAGE_FIELD.match(name) or name == "mask":
            if not is_file:
                raise InvalidRequest(
                    f"'{name}' must be a file part (curl: -F '{name}=@photo.png'); received a "
                    "text field.",
                    param="mask" if name == "mask" else "image",
                    code="invalid_type",
                )
            data = await value.read()
            if name == "mask":
                if upload.mask is not None:
                    raise InvalidRequest(
                        "'mask' was sent twice; send one mask.", param="mask", code="invalid_value"
                    )
                upload.mask = data
            else:
                upload.images.append(data)
            continue
        if is_file:
            raise InvalidRequest(
                f"'{name}' was sent as a file; only 'image', 'image[]' and 'mask' take files.",
                param=name,
                code="invalid_type",
            )
        if name in upload.fields:
            raise InvalidRequest(
                f"'{name}' was sent more than once; send each field once.",
                param=name,
                code="invalid_value",
            )
        upload.fields[name] = _typed(name, value)
    return upload


async def read_json_upload(request: Request, settings: Settings) -> UploadForm:
    body = await read_json(request, settings.max_upload_bytes)
    upload = UploadForm(json=True)
    if "image" in body:
        raise InvalidRequest(
            'The JSON form takes \'images\': [{"image_url": "data:image/png;base64,..."}], '
            "not 'image'; or send a multipart form with an 'image' file.",
            param="image",
            code="unknown_parameter",
        )
    refs = body.pop("images", None)
    mask = body.pop("mask", None)
    if refs is None:
        raise InvalidRequest(
            '\'images\' is required: a list of {"image_url": "data:image/png;base64,..."}.',
            param="images",
            code="missing_required_parameter",
        )
    if not isinstance(refs, list) or not refs:
        raise InvalidRequest(
            "'images' must be a non-empty list of {\"image_url\": ...} objects.",
            param="images",
            code="invalid_type",
        )
    for index, ref in enumerate(refs):
        upload.images.append(await _image_ref(ref, f"images[{index}]", settings))
    if mask is not None:
        upload.mask = await _image_ref(mask, "mask", settings)
    upload.fields = body
    return upload


async def _image_ref(ref: Any, param: str, settings: Settings) -> bytes:
    if not isinstance(ref, dict) or set(ref) - {"image_url", "file_id"} or len(ref) != 1:
        raise InvalidRequest(
            f"'{param}' must be an object with exactly one of 'image_url' or 'file_id'.",
            param=param,
            code="invalid_type",
        )
    if "file_id" in ref:
        raise InvalidRequest(
            f"'{param}.file_id' refers to OpenAI's Files API, which this server does not have. "
            "Send the image as a base64 data URL in 'image_url' instead.",
            param=param,
            code="unsupported_parameter",
        )
    url = ref["image_url"]
    if not isinstance(url, str):
        raise InvalidRequest(
            f"'{param}.image_url' must be a string.", param=param, code="invalid_type"
        )
    if url[:5].lower() == "data:":
        return _data_url(url, param)
    if url[:8].lower() == "https://" or url[:7].lower() == "http://":
        return await fetch_image(url, param, settings)
    raise InvalidRequest(
        f"'{param}.image_url' must be a data URL (data:image/png;base64,...); received "
        f"{url[:30]!r}.",
        param=param,
        code="invalid_value",
    )


def _data_url(url: str, param: str) -> bytes:
    match = _DATA_URL.match(url)
    if match is None:
        raise InvalidRequest(
            f"'{param}.image_url' is a data URL without ';base64,'; send "
            "data:image/png;base64,<the file in base64>.",
            param=param,
            code="invalid_value",
        )
    try:
        return base64.b64decode(url[match.end() :], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest(
            f"'{param}.image_url' is not valid base64 after ';base64,'.",
            param=param,
            code="invalid_value",
        ) from None


def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    host = host.lower().rstrip(".")
    for entry in allowed:
        entry = entry.lower()
        if entry.startswith("*.") and host.endswith(entry[1:]) and host != entry[2:]:
            return True
        if host == entry:
            return True
    return False


async def fetch_image(url: str, param: str, settings: Settings) -> bytes:
    """Fetch an allow-listed https image, bounded in time and size; redirects are not followed
    (they could lead off the allow-list)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not settings.image_url_hosts or not host_allowed(host, settings.image_url_hosts):
        raise InvalidRequest(
            f"'{param}.image_url' points to {host or 'no host'}; this server does not fetch "
            "remote images (the operator allows hosts with image_url_hosts). Send the image as "
            "a base64 data URL instead.",
            param=param,
            code="invalid_value",
        )
    if parts.scheme != "https":
        raise InvalidRequest(
            f"'{param}.image_url' must use https to be fetched; received {parts.scheme}.",
            param=param,
            code="invalid_value",
        )
    import httpx

    chunks: list[bytes] = []
    size = 0
    try:
        async with (
            httpx.AsyncClient(timeout=FETCH_TIMEOUT_S, follow_redirects=False) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                raise InvalidRequest(
                    f"'{param}.image_url' answered HTTP {response.status_code}; it must "
                    "answer 200 with the image.",
                    param=param,
                    code="image_fetch_failed",
                )
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > FETCH_MAX_BYTES:
                    raise InvalidRequest(
                        f"'{param}.image_url' is over {FETCH_MAX_BYTES // (1024 * 1024)} MB.",
                        param=param,
                        code="image_too_large",
                    )
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise InvalidRequest(
            f"'{param}.image_url' could not be fetched ({type(exc).__name__}).",
            param=param,
            code="image_fetch_failed",
        ) from None
    return b"".join(chunks)
