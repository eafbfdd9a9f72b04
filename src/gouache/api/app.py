"""The ASGI application: wires settings, the operation service and the routes together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gouache.api import (
    routes_azure,
    routes_edits,
    routes_events,
    routes_health,
    routes_links,
    routes_openai,
)
from gouache.api.auth import KeyChecker
from gouache.api.browser import SecurityHeaders, cors
from gouache.api.context import AppContext
from gouache.api.errors import EXCEPTION_HANDLERS
from gouache.api.hosts import AllowedHosts, HostGuard
from gouache.api.limits import BodyDeadline
from gouache.api.wire import WireFormatter
from gouache.config import Deployment
from gouache.jobs.service import OperationService
from gouache.metrics import Metrics
from gouache.settings import Settings
from gouache.storage import LinkSigner, load_or_create_secret

log = logging.getLogger("gouache.api")

STATIC = Path(__file__).parent / "static"

# Label values come from closed sets: a client can invent methods and paths, not series.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})


class RequestMetrics:
    """Counts requests by route template and method, each from a closed set (ids, invented paths
    and invented methods would otherwise each make a new series without any key)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        # the labelled child of each (route, method, status) seen: `labels()` costs a lock and a
        # tuple check per request, a dict lookup does not (the sets are closed, so it stays small)
        self._counters: dict[tuple[str, str, int], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"] if scope["method"] in METHODS else "other"
            key = (template, method, status)
            counter = self._counters.get(key)
            if counter is None:
                counter = self._counters[key] = self.metrics.requests.labels(
                    template, method, str(status)
                )
            counter.inc()


async def _sweep_forever(service: OperationService, interval: float) -> None:
    while True:
        try:
            removed = await asyncio.to_thread(service.sweep)
            if removed:
                log.info("expiry: removed %d operations and their images", removed)
        except Exception:
            log.exception("expiry sweep failed")
        await asyncio.sleep(interval)


def create_app(
    settings: Settings,
    deployments: dict[str, Deployment],
    on_fatal: Callable[[str], None] | None = None,
) -> Starlette:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    metrics = Metrics()
    service = OperationService(
        settings, deployments, metrics, on_fatal=on_fatal or (lambda _m: None)
    )
    signer = LinkSigner(load_or_create_secret(settings.data_dir))
    context = AppContext(
        settings=settings,
        deployments=deployments,
        service=service,
        wire=WireFormatter(settings, signer, service.images),
        keys=KeyChecker(settings.api_keys),
        metrics=metrics,
        started=int(time.time()),
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        service.start(asyncio.get_running_loop())
        sweeper = asyncio.create_task(_sweep_forever(service, settings.sweep_interval_s))
        try:
            yield
        finally:
            sweeper.cancel()
            await asyncio.to_thread(service.stop)

    async def index(_request: Request) -> Response:
        page = STATIC / "index.html"
        if page.is_file():
            return FileResponse(page, media_type="text/html", headers={"cache-control": "no-cache"})
        return Response("gouache is running.", media_type="text/plain")

    routes = [
        *routes_azure.routes,
        *routes_openai.routes,
        *routes_edits.routes,
        *routes_events.routes,
        *routes_links.routes,
        *routes_health.routes,
        Route("/", index, methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static"),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[
            Middleware(RequestMetrics, metrics=metrics),
            Middleware(SecurityHeaders, settings=settings),
            Middleware(HostGuard, allowed=AllowedHosts.from_settings(settings)),
            *cors(settings),
            Middleware(BodyDeadline, seconds=settings.body_timeout_s),
        ],
        lifespan=lifespan,
    )
    app.state.ctx = context
    return app
