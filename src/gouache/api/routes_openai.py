"""OpenAI routes: /v1/images/generations and /v1/models (also under Azure's /openai/v1)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gouache.api.body import read_json
from gouache.api.context import ctx, find_deployment
from gouache.api.generate import generate_sync
from gouache.validation import OPENAI_FIELDS, model_name

DEFAULT_MODEL = "dall-e-2"


async def _generations(request: Request) -> JSONResponse:
    app = ctx(request)
    tenant = app.keys.check(request)
    body = await read_json(request, app.settings.max_body_bytes)
    deployment = find_deployment(app, model_name(body) or DEFAULT_MODEL, code="model_not_found")
    return await generate_sync(
        request,
        deployment,
        body,
        allowed_fields=OPENAI_FIELDS,
        surface="/v1/images/generations",
        tenant=tenant,
    )


async def _models(request: Request) -> JSONResponse:
    app = ctx(request)
    app.keys.check(request)
    data = [
        {"id": name, "object": "model", "created": app.started, "owned_by": "gouache"}
        for name in app.deployments
    ]
    return JSONResponse({"object": "list", "data": data})


routes = [
    route
    for prefix in ("/v1", "/openai/v1")
    for route in (
        Route(f"{prefix}/images/generations", _generations, methods=["POST"]),
        Route(f"{prefix}/models", _models, methods=["GET"]),
    )
]
