"""Signed image links: `/images/{operation}/{name}?se=...&sig=...`.

The link is gouache's own contract whatever the storage: this route checks its signature and
expiry, then either sends the bytes from the image store (`links = "stream"`, with single byte
ranges) or answers 302 to a short-lived presigned URL of the object store (`links = "redirect"`).
Every refusal is the error JSON, whatever the query or the Range header holds.
"""

from __future__ import annotations

import asyncio
import time

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from gouache.api.context import ctx
from gouache.errors import Forbidden, GouacheError, InvalidRequest, NotFound

MEDIA_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}

# `se` is a Unix time in seconds: 12 digits reach the year 33658, and anything longer is not a
# time (and would hit Python's integer digit limit). `sig` is a base64url HMAC-SHA256: 43 chars.
MAX_EXPIRY_DIGITS = 12
SIGNATURE_LENGTH = 43
BASE64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
# A presigned storage URL outlives the redirect only long enough to be followed.
PRESIGNED_TTL_S = 300


class RangeNotSatisfiable(GouacheError):
    status_code = 416
    code = "InvalidRange"
    type = "invalid_request_error"


def _denied(message: str, param: str | None = None) -> Forbidden:
    return Forbidden(message, code="AuthenticationFailed", param=param)


def _link_query(request: Request) -> tuple[int, str]:
    """`se` and `sig` from the query, checked for shape before any arithmetic or comparison."""
    expires_text = request.query_params.get("se", "")
    signature = request.query_params.get("sig", "")
    if not expires_text or not signature:
        raise _denied(
            "This image link is missing its signature (se and sig). Use the URL exactly as the "
            "API returned it."
        )
    if not (
        expires_text.isascii() and expires_text.isdigit() and len(expires_text) <= MAX_EXPIRY_DIGITS
    ):
        raise _denied(
            f"This image link's expiry (se) is not a time: it must be a Unix time of at most "
            f"{MAX_EXPIRY_DIGITS} ASCII digits. Use the URL exactly as the API returned it.",
            "se",
        )
    if len(signature) != SIGNATURE_LENGTH or not BASE64URL.issuperset(signature):
        raise _denied(
            f"This image link's signature (sig) is malformed: it must be {SIGNATURE_LENGTH} "
            "base64url characters. Use the URL exactly as the API returned it.",
            "sig",
        )
    return int(expires_text), signature


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """One `bytes=` range as (start, end exclusive), or None for the whole image.

    Several ranges at once are answered with the whole image (RFC 9110 lets a server ignore a
    Range header); a Range that is not a byte range at all is a 400, one past the end a 416."""
    if header is None:
        return None
    allowed = (
        "Send `Range: bytes=START-END`, `bytes=START-` or `bytes=-LENGTH`, with END >= START, "
        "or no Range header for the whole image."
    )
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or not spec.strip():
        raise InvalidRequest(
            f"The Range header {header[:64]!r} is not a byte range. {allowed}",
            code="InvalidRange",
            param="range",
        )
    if "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    first, last = first.strip(), last.strip()
    digits = all(
        part == "" or (part.isascii() and part.isdigit() and len(part) <= 18)
        for part in (first, last)
    )
    if not dash or not digits or (first == "" and last == ""):
        raise InvalidRequest(
            f"The Range header {header[:64]!r} is malformed. {allowed}",
            code="InvalidRange",
            param="range",
        )
    if first == "":
        length = int(last)
        if length == 0:
            raise _unsatisfiable(header, size)
        return max(0, size - length), size
    start = int(first)
    end = size if last == "" else int(last) + 1
    if last != "" and end <= start:
        raise InvalidRequest(
            f"The Range header {header[:64]!r} ends before it starts. {allowed}",
            code="InvalidRange",
            param="range",
        )
    if start >= size:
        raise _unsatisfiable(header, size)
    return start, min(end, size)


def _unsatisfiable(header: str, size: int) -> RangeNotSatisfiable:
    return RangeNotSatisfiable(
        f"The Range header {header[:64]!r} asks for bytes past the end of this image, which has "
        f"{size} bytes.",
        headers={"content-range": f"bytes */{size}"},
        param="range",
    )


def _missing() -> NotFound:
    return NotFound(
        "The image no longer exists: its operation was deleted or has expired.",
        code="BlobNotFound",
    )


async def image(request: Request) -> Response:
    app = ctx(request)
    operation_id = request.path_params["operation_id"]
    name = request.path_params["name"]
    expires, signature = _link_query(request)
    path = f"/images/{operation_id}/{name}"
    if not app.wire.signer.verify(path, expires, signature):
        raise _denied(
            "This image link's signature does not match. Use the URL exactly as the API "
            "returned it."
        )
    now = time.time()
    if expires <= now:
        raise _denied(
            "This image link has expired. Fetch the operation again for a fresh link while the "
            "operation lives."
        )
    images = app.service.images
    max_age = max(0, expires - int(now))
    if app.settings.links == "redirect":
        if not await images.exists(operation_id, name):
            raise _missing()
        # Never longer than gouache's own link: a redirect cannot extend it.
        ttl = max(1, min(PRESIGNED_TTL_S, max_age))
        # Signing can need the network (a user-delegation key, a token refresh): off the loop.
        url = await asyncio.to_thread(images.presigned_url, operation_id, name, ttl)
        return RedirectResponse(url, status_code=302, headers={"cache-control": "no-store"})
    stored = await images.open(operation_id, name)
    if stored is None:
        raise _missing()
    byte_range = _byte_range(request.headers.get("range"), stored.size)
    start, end = byte_range or (0, stored.size)
    try:
        body = await stored.body(start, end)
    except FileNotFoundError:
        raise _missing() from None
    headers = {
        "cache-control": f"private, max-age={max_age}",
        "accept-ranges": "bytes",
        "content-length": str(end - start),
    }
    status = 200
    if byte_range is not None:
        status = 206
        headers["content-range"] = f"bytes {start}-{end - 1}/{stored.size}"
    return StreamingResponse(
        body.chunks,
        status_code=status,
        media_type=MEDIA_TYPES[name.rsplit(".", 1)[1]],
        headers=headers,
    )


routes = [Route("/images/{operation_id}/{name}", image, methods=["GET"])]
