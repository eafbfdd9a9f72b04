"""Azure OpenAI routes: the DALL-E 2 submit/poll operation API and the deployments route."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gouache.api.body import read_json
from gouache.api.context import ctx, find_deployment
from gouache.api.generate import check_previews, generate_sync
from gouache.api.versions import (
    ASYNC_VERSIONS,
    DEPLOYMENT_VERSIONS,
    async_fields,
    deployment_fields,
    require_version,
)
from gouache.jobs.states import UNFINISHED
from gouache.validation import model_name, validate_generation

ASYNC_DEFAULT_DEPLOYMENT = "dall-e-2"


async def submit(request: Request) -> JSONResponse:
    app = ctx(request)
    tenant = app.keys.check(request)
    version = require_version(request, ASYNC_VERSIONS, "/openai/images/generations:submit")
    body = await read_json(request, app.settings.max_body_bytes)
    name = model_name(body) or ASYNC_DEFAULT_DEPLOYMENT
    deployment = find_deployment(app, name, code="DeploymentNotFound")
    params = validate_generation(
        body,
        deployment.profile,
        deployment=deployment.name,
        allowed_fields=async_fields(),
        surface=f"the image operation API (api-version {version})",
        max_user_length=app.settings.max_user_length,
    )
    check_previews(deployment, params)
    operation = await app.service.submit(deployment, params, tenant=tenant)
    location = (
        f"{app.wire.base_url(request)}/openai/operations/images/{operation.id}"
        f"?api-version={version}"
    )
    return JSONResponse(
        {"id": operation.id, "status": operation.status.value, "created": operation.created},
        status_code=202,
        headers={
            "operation-location": location,
            "retry-after": str(app.settings.retry_after_s),
        },
    )


async def get_operation(request: Request) -> JSONResponse:
    app = ctx(request)
    operation_id = request.path_params["operation_id"]
    tenant = app.keys.check(request)
    require_version(request, ASYNC_VERSIONS, "/openai/operations/images")
    operation = await app.service.get(operation_id, tenant=tenant)
    headers = {}
    if operation.status in UNFINISHED:
        headers["retry-after"] = str(app.settings.retry_after_s)
    return JSONResponse(await app.wire.operation(request, operation), headers=headers)


async def delete_operation(request: Request) -> Response:
    app = ctx(request)
    operation_id = request.path_params["operation_id"]
    tenant = app.keys.check(request)
    require_version(request, ASYNC_VERSIONS, "/openai/operations/images")
    await app.service.delete(operation_id, tenant=tenant)
    return Response(status_code=204)


async def deployment_generate(request: Request) -> Response:
    app = ctx(request)
    deployment_id = request.path_params["deployment_id"]
    tenant = app.keys.check(request)
    version = require_version(
        request,
        DEPLOYMENT_VERSIONS,
        "/openai/deployments/{deployment-id}/images/generations",
        newer=True,
    )
    deployment = find_deployment(app, deployment_id, code="DeploymentNotFound", param=None)
    body = await read_json(request, app.settings.max_body_bytes)
    return await generate_sync(
        request,
        deployment,
        body,
        allowed_fields=deployment_fields(version),
        surface=f"the deployments route at api-version {version}",
        tenant=tenant,
    )


routes = [
    Route("/openai/images/generations:submit", submit, methods=["POST"]),
    Route("/openai/operations/images/{operation_id}", get_operation, methods=["GET"]),
    Route("/openai/operations/images/{operation_id}", delete_operation, methods=["DELETE"]),
    Route(
        "/openai/deployments/{deployment_id}/images/generations",
        deployment_generate,
        methods=["POST"],
    ),
]
