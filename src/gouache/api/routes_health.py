"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gouache.api.context import ctx
from gouache.jobs.capabilities import capabilities
from gouache.metrics import CONTENT_TYPE


async def healthz(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    app = ctx(request)
    deployments = {
        name: {
            "profile": d.profile.name,
            "engine": d.engine,
            "sizes": list(d.sizes),
            "max_n": d.max_n,
            "prompt_max": d.profile.prompt_max,
            # what the engine does besides generating (the web page offers Edit and previews)
            "edits": capabilities(d).edits and d.profile.name != "dall-e-3",
            "previews": capabilities(d).previews,
        }
        for name, d in app.deployments.items()
    }
    if app.service.pool.failure:
        return JSONResponse(
            {"status": "failed", "error": app.service.pool.failure, "deployments": deployments},
            status_code=503,
        )
    faults = app.service.faults()
    if faults:
        return JSONResponse(
            {"status": "degraded", "faults": faults, "deployments": deployments}, status_code=503
        )
    if not app.service.ready:
        return JSONResponse({"status": "loading", "deployments": deployments}, status_code=503)
    return JSONResponse({"status": "ready", "deployments": deployments})


async def metrics(request: Request) -> Response:
    # the store's gauges are read at scrape time: off the event loop
    body = await asyncio.to_thread(ctx(request).metrics.render)
    return Response(body, media_type=CONTENT_TYPE)


routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
]
