"""The baseline for bench/service.py: a bare Starlette app with one JSON GET and one JSON POST,
served by the same uvicorn as gouache, so the difference is gouache's own work."""

from __future__ import annotations

import json
import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

OPERATION = {
    "id": "f508bcf2-e651-4b4b-85a7-58ad77981ffa",
    "created": 1686676595,
    "expires": 1686762999,
    "status": "succeeded",
    "result": {
        "created": 1686676595,
        "data": [{"url": "http://127.0.0.1/images/x/0.png?se=1&sig=2"}],
    },
}


async def get_operation(_request: Request) -> JSONResponse:
    return JSONResponse(OPERATION)


async def post_json(request: Request) -> JSONResponse:
    body = json.loads(await request.body())
    return JSONResponse({"created": int(time.time()), "data": [{"url": body.get("prompt", "")}]})


app = Starlette(
    routes=[
        Route("/operation", get_operation, methods=["GET"]),
        Route("/generate", post_json, methods=["POST"]),
    ]
)
