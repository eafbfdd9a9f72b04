"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gouache.api.context import ctx
from gouache.metrics import CONTENT_TYPE

router = APIRouter()


@router.get("/healthz")
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    app = ctx(request)
    deployments = {
        name: {
            "profile": d.profile.name,
            "engine": d.engine,
            "sizes": list(d.sizes),
            "max_n": d.max_n,
        }
        for name, d in app.deployments.items()
    }
    if app.service.pool.failure:
        return JSONResponse(
            {"status": "failed", "error": app.service.pool.failure, "deployments": deployments},
            status_code=503,
        )
    if not app.service.ready:
        return JSONResponse({"status": "loading", "deployments": deployments}, status_code=503)
    return JSONResponse({"status": "ready", "deployments": deployments})


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    return Response(ctx(request).metrics.render(), media_type=CONTENT_TYPE)
