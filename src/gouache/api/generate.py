"""The synchronous generation flow shared by Azure's deployments route and OpenAI's /v1 route.

It runs through the same durable operation as the async API (so per-user records, expiry and
backpressure behave the same) and answers once the operation has ended.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from gouache.api.context import ctx, stored_error
from gouache.config import Deployment
from gouache.errors import GouacheError
from gouache.jobs.states import Status
from gouache.validation import validate_generation


async def generate_sync(
    request: Request,
    deployment: Deployment,
    body: dict[str, Any],
    *,
    allowed_fields: frozenset[str],
    surface: str,
    tenant: str,
    openai: bool = False,
) -> JSONResponse:
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
    operation = await app.service.submit(deployment, params, tenant=tenant, sync=True)
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
    assert operation.result is not None
    body_out: dict[str, Any] = {
        "created": operation.result["created"],
        "data": await app.wire.image_items(
            request, operation, revised_prompt=deployment.profile.name == "dall-e-3"
        ),
    }
    if deployment.profile.name == "gpt-image-1":
        body_out["background"] = params.background or "opaque"
        body_out["output_format"] = params.output_format
        body_out["quality"] = params.quality
        body_out["size"] = params.size
    return JSONResponse(body_out)
