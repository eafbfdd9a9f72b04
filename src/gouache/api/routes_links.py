"""Signed image links: `/images/{operation}/{name}?se=...&sig=...`."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import FileResponse
from starlette.routing import Route

from gouache.api.context import ctx
from gouache.errors import Forbidden, NotFound

MEDIA_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


async def image(request: Request) -> FileResponse:
    app = ctx(request)
    operation_id = request.path_params["operation_id"]
    name = request.path_params["name"]
    expires_text = request.query_params.get("se", "")
    signature = request.query_params.get("sig", "")
    if not expires_text.isdigit() or not signature:
        raise Forbidden(
            "This image link is missing its signature (se and sig). Use the URL exactly as the "
            "API returned it.",
            code="AuthenticationFailed",
        )
    expires = int(expires_text)
    path = f"/images/{operation_id}/{name}"
    if not app.wire.signer.verify(path, expires, signature):
        raise Forbidden(
            "This image link's signature does not match. Use the URL exactly as the API "
            "returned it.",
            code="AuthenticationFailed",
        )
    if expires <= time.time():
        raise Forbidden(
            "This image link has expired. Fetch the operation again for a fresh link while the "
            "operation lives.",
            code="AuthenticationFailed",
        )
    file = app.service.images.path(operation_id, name)
    if file is None:
        raise NotFound(
            "The image no longer exists: its operation was deleted or has expired.",
            code="BlobNotFound",
        )
    max_age = max(0, expires - int(time.time()))
    return FileResponse(
        file,
        media_type=MEDIA_TYPES[name.rsplit(".", 1)[1]],
        headers={"cache-control": f"private, max-age={max_age}"},
    )


routes = [Route("/images/{operation_id}/{name}", image, methods=["GET"])]
