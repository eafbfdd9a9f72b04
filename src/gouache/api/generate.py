"""The synchronous flow shared by every route that answers with images: generations on Azure's
deployments route and OpenAI's /v1, edits and variations.

It runs through the same durable operation as the async API (so per-user records, expiry and
backpressure behave the same) and answers once the operation has ended.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gouache.api.context import ctx, stored_error
from gouache.api.streaming import stream_response
from gouache.config import Deployment
from gouache.errors import GouacheError, InvalidRequest
from gouache.jobs.capabilities import capabilities
from gouache.jobs.states import Status
from gouache.jobs.store import Operation
from gouache.validation import GenerationParams, validate_generation


async def generate_sync(
    request: Request,
    deployment: Deployment,
    body: dict[str, Any],
    *,
    allowed_fields: frozenset[str],
    surface: str,
    tenant: str,
    openai: bool = False,
) -> Response:
    app = ctx(request)
    params = validate_generation(
        body,
        deployment.profile,
        deployment=deployment.name,
        allowed_fields=allowed_fields,
        surface=surface,
        max_user_length=app.settings.max_user_length,
        openai=openai,
    )
    return await run_sync(request, deployment, params, tenant=tenant)


async def run_sync(
    request: Request,
    deployment: Deployment,
    params: GenerationParams,
    *,
    tenant: str,
    inputs: Sequence[tuple[str, bytes]] = (),
) -> Response:
    """Submit, wait for the end, answer with the images (or the operation's error); with
    `stream`, answer at once with an event stream that follows the operation."""
    app = ctx(request)
    check_previews(deployment, params)
    operation = await app.service.submit(
        deployment, params, tenant=tenant, sync=True, inputs=inputs
    )
    if params.stream:
        return stream_response(request, params, operation, tenant)
    operation = await wait_for(request, operation, tenant)
    return JSONResponse(await images_response(request, deployment, params, operation))


def check_previews(deployment: Deployment, params: GenerationParams) -> None:
    """Previews asked of an engine that makes none are refused before any work starts."""
    able = capabilities(deployment)
    if params.partial_images and not able.previews:
        raise InvalidRequest(
            f"Deployment '{deployment.name}' cannot send previews: its engine ({able.engine}) "
            "makes none. Set partial_images to 0 (a stream then carries the finished images "
            "only).",
            param="partial_images",
            code="unsupported_parameter",
        )


async def wait_for(request: Request, operation: Operation, tenant: str) -> Operation:
    """The finished operation; a 504 when it outlasts `sync_timeout_s`, its error when it failed."""
    app = ctx(request)
    try:
        operation = await app.service.wait(operation.id, app.settings.sync_timeout_s, tenant=tenant)
    except TimeoutError:
        error = GouacheError(
            f"The images were not ready within {app.settings.sync_timeout_s:g} s. The work goes "
            f"on as operation {operation.id}; raise sync_timeout_s or use the async API.",
            code="timeout",
        )
        error.status_code = 504
        raise error from None
    if operation.status != Status.SUCCEEDED:
        raise stored_error(operation)
    return operation


async def images_response(
    request: Request, deployment: Deployment, params: GenerationParams, operation: Operation
) -> dict[str, Any]:
    """The ImagesResponse body: `created` and `data`, plus the GPT image models' extra fields."""
    app = ctx(request)
    assert operation.result is not None
    body_out: dict[str, Any] = {
        "created": operation.result["created"],
        "data": await app.wire.image_items(
            request, operation, revised_prompt=deployment.profile.name == "dall-e-3"
        ),
    }
    if deployment.profile.name == "gpt-image-1":
        body_out.update(gpt_image_fields(params))
    return body_out


def gpt_image_fields(params: GenerationParams) -> dict[str, Any]:
    return {
        "background": params.background or "opaque",
        "output_format": params.output_format,
        "quality": params.quality,
        "size": params.size,
    }
