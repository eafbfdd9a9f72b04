"""Reading a request body: declared as JSON, within the size cap, and parsed without surprises.

Requiring `application/json` is what keeps a web page on another origin from driving a server
that has no keys: a browser sends a cross-origin POST without asking first only when its type is
`text/plain`, `application/x-www-form-urlencoded` or `multipart/form-data`, and a page cannot read
or forge the answer to anything else without a CORS grant the server never gives by default.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from gouache.errors import InvalidRequest, PayloadTooLarge
from gouache.validation import parse_json_object


class UnsupportedMediaType(InvalidRequest):
    status_code = 415
    code = "unsupported_media_type"


def is_json_type(content_type: str) -> bool:
    """`application/json`, with or without parameters such as `charset=utf-8`."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json"


def require_json_type(request: Request) -> None:
    content_type = request.headers.get("content-type")
    if content_type is not None and is_json_type(content_type):
        return
    received = f"'{content_type}'" if content_type is not None else "no content-type header"
    raise UnsupportedMediaType(
        f"This route takes a JSON body sent with 'content-type: application/json'; received "
        f"{received}. Add the header (curl: -H 'content-type: application/json').",
    )


async def read_json(request: Request, limit: int) -> dict[str, Any]:
    """The body as a JSON object: its type checked first, then its size, then its content."""
    require_json_type(request)
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
        raise PayloadTooLarge(f"The request body is {declared} bytes; the limit is {limit} bytes.")
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The request body is over the limit of {limit} bytes.")
        chunks.append(chunk)
    return parse_json_object(b"".join(chunks))
