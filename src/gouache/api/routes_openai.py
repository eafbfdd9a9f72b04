"""OpenAI-shaped routes: OpenAI's /v1 and Azure's v1 surface.

- `/v1/images/generations`, `/v1/models`: OpenAI's API (an api-version is never sent there).
- `/openai/v1/images/generations`, `/openai/v1/models`: Azure's v1 surface, where the deployment
  is named in `model` and api-version is `v1`, `preview` or absent.
- `/openai/images/generations`: where the Vercel AI SDK's `createAzure` posts when its baseURL ends
  in `/openai` (versions that append the path to the baseURL directly); served as the v1 surface.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gouache.api.body import read_json
from gouache.api.context import ctx, find_deployment
from gouache.api.generate import generate_sync
from gouache.api.versions import require_v1_version
from gouache.validation import OPENAI_FIELDS, model_name

DEFAULT_MODEL = "dall-e-2"
AZURE_V1_PREFIXES = ("/openai/v1/", "/openai/images/")


def is_azure_v1(request: Request) -> bool:
    return request.url.path.startswith(AZURE_V1_PREFIXES)


def check_surface_version(request: Request) -> None:
    """On the Azure v1 surface, api-version must be v1, preview or absent; OpenAI's own /v1
    ignores query parameters, as OpenAI does."""
    if is_azure_v1(request):
        require_v1_version(request, request.url.path)


async def _generations(request: Request) -> Response:
    app = ctx(request)
    tenant = app.keys.check(request)
    check_surface_version(request)
    body = await read_json(request, app.settings.max_body_bytes)
    deployment = find_deployment(app, model_name(body) or DEFAULT_MODEL, code="model_not_found")
    return await generate_sync(
        request,
        deployment,
        body,
        allowed_fields=OPENAI_FIELDS,
        surface=request.url.path,
        tenant=tenant,
        openai=True,
    )


async def _models(request: Request) -> JSONResponse:
    app = ctx(request)
    app.keys.check(request)
    check_surface_version(request)
    data = [
        {"id": name, "object": "model", "created": app.started, "owned_by": "gouache"}
        for name in app.deployments
    ]
    return JSONResponse({"object": "list", "data": data})


routes = [
    *(
        route
        for prefix in ("/v1", "/openai/v1")
        for route in (
            Route(f"{prefix}/images/generations", _generations, methods=["POST"]),
            Route(f"{prefix}/models", _models, methods=["GET"]),
        )
    ),
    Route("/openai/images/generations", _generations, methods=["POST"]),
]
