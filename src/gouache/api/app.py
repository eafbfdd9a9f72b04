"""The ASGI application: wires settings, the operation service and the routes together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

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
from gouache.api.guards import RequestGuards
from gouache.api.hosts import AllowedHosts, HostCheck
from gouache.api.polls import FinishedPolls
from gouache.api.wire import WireFormatter
from gouache.config import Deployment
from gouache.jobs.service import OperationService
from gouache.metrics import Metrics
from gouache.settings import Settings
from gouache.storage import LinkSigner, link_secret

log = logging.getLogger("gouache.api")

STATIC = Path(__file__).parent / "static"


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
    signer = LinkSigner(link_secret(settings.link_secret, settings.data_dir))
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

    security = SecurityHeaders(settings)
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
            Middleware(
                RequestGuards,
                metrics=metrics,
                headers=security,
                hosts=HostCheck(AllowedHosts.from_settings(settings)),
                body_timeout_s=settings.body_timeout_s,
                # CORS answers are made further in; with origins configured every poll goes there
                polls=None
                if settings.cors_origins
                else FinishedPolls(service.cache, context.keys, context.wire, security),
            ),
            *cors(settings),
        ],
        lifespan=lifespan,
    )
    app.state.ctx = context
    return app
