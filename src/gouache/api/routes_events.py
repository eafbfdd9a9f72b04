"""`GET /openai/operations/images/{id}/events`: an operation's progress as Server-Sent Events.

A gouache extension beside Azure's operation API (whose operation object it leaves exactly as
specified): instead of polling, a client opens this once and reads

    event: status     data: {"id", "status", "progress"}           on every status change
    event: preview    data: {"id", "image_index", "partial_image_index", "progress", "url"}
    event: operation  data: the operation object, exactly as GET returns it, once it has ended

and the stream closes after `operation`. `progress` is the fraction of the work done (0 queued,
the mean of the images' latest preview progress while running, 1 once finished); `url` is a signed,
expiring link to the preview image. Previews exist when the operation was submitted with
`partial_images` (1..3) to an engine that makes them. A comment line is sent every
`KEEP_ALIVE_S` so that proxies keep an idle stream open. Everything is read from the store and
image storage, so any API process can serve the events of any operation.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from gouache.api.context import AppContext, ctx
from gouache.api.errors import wire_error
from gouache.api.streaming import HEADERS
from gouache.api.versions import ASYNC_VERSIONS, require_version
from gouache.errors import GouacheError
from gouache.jobs.progress import PreviewRecord
from gouache.jobs.states import FINISHED, Status
from gouache.jobs.store import Operation

log = logging.getLogger("gouache.api")

POLL_S = 0.25
KEEP_ALIVE_S = 15.0


def event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def progress_of(operation: Operation, previews: list[PreviewRecord]) -> float:
    """0 before it runs, 1 once it has ended, in between the mean over its images of the latest
    preview's progress (an image without a preview yet counts 0)."""
    if operation.status in FINISHED:
        return 1.0
    if operation.status != Status.RUNNING or not previews:
        return 0.0
    latest: dict[int, float] = {}
    for record in previews:
        latest[record.image_index] = max(latest.get(record.image_index, 0.0), record.progress)
    return round(sum(latest.values()) / max(1, operation.n), 4)


async def operation_events(request: Request) -> StreamingResponse:
    app = ctx(request)
    operation_id = request.path_params["operation_id"]
    tenant = app.keys.check(request)
    require_version(request, ASYNC_VERSIONS, "/openai/operations/images/{id}/events")
    operation = await app.service.get(operation_id, tenant=tenant)  # 404 before streaming
    return StreamingResponse(
        _guarded(app, request, operation, tenant), media_type="text/event-stream", headers=HEADERS
    )


async def _guarded(
    app: AppContext, request: Request, operation: Operation, tenant: str
) -> AsyncIterator[bytes]:
    try:
        async for chunk in _follow(app, request, operation, tenant):
            yield chunk
    except GouacheError as exc:
        yield event("error", wire_error(exc, request.url.path))
    except Exception:
        log.exception("events of operation %s failed", operation.id)
        error = GouacheError("The server had an internal error; the details are in its log.")
        yield event("error", wire_error(error, request.url.path))


async def _follow(
    app: AppContext, request: Request, operation: Operation, tenant: str
) -> AsyncIterator[bytes]:
    base = app.wire.base_url(request)
    status: Status | None = None
    sent: set[tuple[int, int]] = set()
    quiet_since = time.monotonic()
    while True:
        previews = (
            await app.service.previews(operation.id)
            if operation.params.get("partial_images")
            else []
        )
        progress = progress_of(operation, previews)
        finished = operation.status in FINISHED
        if operation.status != status and not finished:
            status = operation.status
            yield event(
                "status", {"id": operation.id, "status": status.value, "progress": progress}
            )
            quiet_since = time.monotonic()
        for record in previews:
            key = (record.image_index, record.partial_index)
            if key in sent:
                continue
            sent.add(key)
            yield event(
                "preview",
                {
                    "id": operation.id,
                    "image_index": record.image_index,
                    "partial_image_index": record.partial_index,
                    "progress": record.progress,
                    "url": app.wire.image_url(base, operation, record.name),
                },
            )
            quiet_since = time.monotonic()
        if finished:
            yield event(
                "status", {"id": operation.id, "status": operation.status.value, "progress": 1.0}
            )
            yield event("operation", await app.wire.operation(request, operation))
            return
        if time.monotonic() - quiet_since > KEEP_ALIVE_S:
            yield b": keep-alive\n\n"
            quiet_since = time.monotonic()
        await asyncio.sleep(POLL_S)
        operation = await app.service.get(operation.id, tenant=tenant)


routes = [
    Route("/openai/operations/images/{operation_id}/events", operation_events, methods=["GET"]),
]
