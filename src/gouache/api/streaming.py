"""`stream: true`: an operation's previews and images as Server-Sent Events, in OpenAI's shapes.

Events (OpenAI spec, `ImageGenStreamEvent` / `ImageEditStreamEvent`):

    event: image_generation.partial_image
    data: {"type": "image_generation.partial_image", "b64_json": ..., "created_at": ...,
           "size": ..., "quality": ..., "background": ..., "output_format": ...,
           "partial_image_index": 0}

    event: image_generation.completed
    data: {"type": "image_generation.completed", "b64_json": ..., ..., "usage": {...}}

(`image_edit.*` for edits.) With n > 1 each image's previews are numbered from 0, and one
`completed` event follows per image, in index order; both carry `image_index`, a gouache extension
saying which image they belong to. A failure after the stream has started is sent as
`data: {"error": {...}}`, which the openai SDKs raise as an APIError.

The events come from the store, not from this process's memory: previews are rows a worker wrote
(`gouache.jobs.progress`) and files in image storage, so the stream works whichever process or
machine runs the engine.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import StreamingResponse

from gouache.api.context import AppContext, ctx, stored_error
from gouache.api.errors import wire_error
from gouache.errors import GouacheError
from gouache.jobs.states import FINISHED, Status
from gouache.jobs.store import Operation
from gouache.validation import GenerationParams

log = logging.getLogger("gouache.api")

# How long one wait on the store lasts before previews are looked for again.
POLL_S = 0.2
HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}
# gouache counts no tokens (docs/compatibility.md); the spec requires the object.
USAGE = {
    "total_tokens": 0,
    "input_tokens": 0,
    "output_tokens": 0,
    "input_tokens_details": {"text_tokens": 0, "image_tokens": 0},
}


def event_prefix(params: GenerationParams) -> str:
    return "image_edit" if params.operation == "edit" else "image_generation"


def sse(event: str | None, data: dict[str, Any]) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def stream_response(
    request: Request, params: GenerationParams, operation: Operation, tenant: str
) -> StreamingResponse:
    return StreamingResponse(
        _events(request, params, operation, tenant),
        media_type="text/event-stream",
        headers=HEADERS,
    )


def _common(params: GenerationParams) -> dict[str, Any]:
    return {
        "size": params.size,
        "quality": params.quality or "auto",
        "background": params.background or "opaque",
        "output_format": params.output_format,
    }


async def _events(
    request: Request, params: GenerationParams, operation: Operation, tenant: str
) -> AsyncIterator[bytes]:
    app = ctx(request)
    prefix = event_prefix(params)
    try:
        async for chunk in _progress_and_result(app, params, operation, tenant, prefix):
            yield chunk
    except GouacheError as exc:
        yield sse(None, wire_error(exc, request.url.path))
    except Exception:  # the stream has started: the error goes in it, not in a 500
        log.exception("stream of operation %s failed", operation.id)
        error = GouacheError("The server had an internal error; the details are in its log.")
        yield sse(None, wire_error(error, request.url.path))


async def _progress_and_result(
    app: AppContext, params: GenerationParams, operation: Operation, tenant: str, prefix: str
) -> AsyncIterator[bytes]:
    sent: set[tuple[int, int]] = set()
    deadline = time.monotonic() + app.settings.sync_timeout_s
    while True:
        if params.partial_images:
            for record in await app.service.previews(operation.id):
                key = (record.image_index, record.partial_index)
                if key in sent:
                    continue
                sent.add(key)
                data = await app.service.read_image(operation.id, record.name)
                yield sse(
                    f"{prefix}.partial_image",
                    {
                        "type": f"{prefix}.partial_image",
                        "b64_json": base64.b64encode(data).decode(),
                        "created_at": int(record.created_at),
                        **_common(params),
                        "partial_image_index": record.partial_index,
                        "image_index": record.image_index,
                    },
                )
        if operation.status in FINISHED:
            break
        if time.monotonic() > deadline:
            error = GouacheError(
                f"The images were not ready within {app.settings.sync_timeout_s:g} s. The work "
                f"goes on as operation {operation.id}.",
                code="timeout",
            )
            error.status_code = 504
            raise error
        try:
            operation = await app.service.wait(operation.id, POLL_S, tenant=tenant)
        except TimeoutError:
            continue
    if operation.status != Status.SUCCEEDED:
        raise stored_error(operation)
    assert operation.result is not None
    for index, item in enumerate(operation.result["data"]):
        data = await app.service.read_image(operation.id, item["name"])
        yield sse(
            f"{prefix}.completed",
            {
                "type": f"{prefix}.completed",
                "b64_json": base64.b64encode(data).decode(),
                "created_at": operation.result["created"],
                **_common(params),
                "usage": USAGE,
                "image_index": index,
            },
        )
