"""Image edits and variations: OpenAI's /v1, Azure's v1 surface and Azure's deployments route.

- `POST /v1/images/edits`, `/openai/v1/images/edits` (and `/openai/images/edits`, as for
  generations): multipart with `image` / `image[]` files and an optional `mask`, or JSON with
  `images: [{image_url}]` (GPT image deployments only, as OpenAI says).
- `POST /openai/deployments/{deployment}/images/edits?api-version=2025-04-01-preview` (and later
  dated versions): multipart, as Azure documents and the SDK sends it.
- `POST /v1/images/variations`: dall-e-2 deployments, multipart.

An edit is an operation like a generation: durable, per user, with expiring links and the same
backpressure; its inputs are kept in image storage with the operation and deleted with it.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gouache.api.context import ctx, find_deployment
from gouache.api.generate import run_sync
from gouache.api.routes_openai import check_surface_version
from gouache.api.uploads import UploadForm, read_upload
from gouache.api.versions import EDIT_VERSIONS, require_version
from gouache.config import Deployment
from gouache.edits import (
    AZURE_EDIT_FIELDS,
    EDIT_FIELDS,
    InputImage,
    inspect_image,
    validate_edit,
    validate_variation,
)
from gouache.errors import InvalidRequest
from gouache.jobs.capabilities import capabilities
from gouache.storage.base import MASK_NAME, input_name
from gouache.validation import GenerationParams, model_name

DEFAULT_EDIT_MODEL = "gpt-image-1"  # OpenAI's edit default is a GPT image model
DEFAULT_VARIATION_MODEL = "dall-e-2"


def _unsupported(deployment: Deployment, what: str, engine: str) -> InvalidRequest:
    return InvalidRequest(
        f"Deployment '{deployment.name}' cannot {what}: its engine ({engine}) does not support "
        "it. Send the request to a deployment whose engine does (builtin, diffusers, forward).",
        param="model",
        code="unsupported_operation",
    )


async def _inspect(upload: UploadForm) -> tuple[list[InputImage], InputImage | None]:
    """Read the uploads' headers off the event loop (Pillow parses them)."""

    def inspect() -> tuple[list[InputImage], InputImage | None]:
        images = [
            inspect_image(data, f"Image {i}" if len(upload.images) > 1 else "The image", "image")
            for i, data in enumerate(upload.images)
        ]
        mask = None if upload.mask is None else inspect_image(upload.mask, "The mask", "mask")
        return images, mask

    return await asyncio.to_thread(inspect)


def stored_inputs(
    params: GenerationParams, images: list[InputImage], mask: InputImage | None
) -> tuple[GenerationParams, list[tuple[str, bytes]]]:
    """Names for the inputs in image storage, recorded in the operation's parameters."""
    inputs = [(input_name(i, image.format), image.data) for i, image in enumerate(images)]
    if mask is not None:
        inputs.append((MASK_NAME, mask.data))
    names = tuple(name for name, _ in inputs[: len(images)])
    params = replace(params, inputs=names, mask=MASK_NAME if mask is not None else None)
    return params, inputs


async def _edit(
    request: Request,
    deployment: Deployment,
    upload: UploadForm,
    *,
    tenant: str,
    allowed_fields: frozenset[str],
    surface: str,
    openai: bool,
) -> Response:
    app = ctx(request)
    able = capabilities(deployment)
    if not able.edits:
        raise _unsupported(deployment, "edit images", able.engine)
    if upload.json and deployment.profile.name != "gpt-image-1":
        raise InvalidRequest(
            f"The JSON form of edits takes GPT image deployments only; deployment "
            f"'{deployment.name}' is {deployment.profile.name}. Send a multipart form instead.",
            param="model",
            code="unsupported_parameter",
        )
    images, mask = await _inspect(upload)
    params = validate_edit(
        upload.fields,
        images,
        mask,
        deployment.profile,
        deployment=deployment.name,
        allowed_fields=allowed_fields,
        surface=surface,
        max_user_length=app.settings.max_user_length,
        openai=openai,
    )
    params, inputs = stored_inputs(params, images, mask)
    return await run_sync(request, deployment, params, tenant=tenant, inputs=inputs)


async def openai_edits(request: Request) -> Response:
    app = ctx(request)
    tenant = app.keys.check(request)
    check_surface_version(request)
    upload = await read_upload(request, app.settings, json_allowed=True)
    name = model_name(upload.fields) or DEFAULT_EDIT_MODEL
    deployment = find_deployment(app, name, code="model_not_found")
    return await _edit(
        request,
        deployment,
        upload,
        tenant=tenant,
        allowed_fields=EDIT_FIELDS,
        surface=request.url.path,
        openai=True,
    )


async def deployment_edits(request: Request) -> Response:
    app = ctx(request)
    deployment_id = request.path_params["deployment_id"]
    tenant = app.keys.check(request)
    version = require_version(
        request, EDIT_VERSIONS, "/openai/deployments/{deployment-id}/images/edits", newer=True
    )
    deployment = find_deployment(app, deployment_id, code="DeploymentNotFound", param=None)
    upload = await read_upload(request, app.settings, json_allowed=False)
    return await _edit(
        request,
        deployment,
        upload,
        tenant=tenant,
        allowed_fields=AZURE_EDIT_FIELDS,
        surface=f"the deployments route at api-version {version}",
        openai=False,
    )


async def variations(request: Request) -> Response:
    app = ctx(request)
    tenant = app.keys.check(request)
    upload = await read_upload(request, app.settings, json_allowed=False)
    fields: dict[str, Any] = upload.fields
    deployment = find_deployment(
        app, model_name(fields) or DEFAULT_VARIATION_MODEL, code="model_not_found"
    )
    able = capabilities(deployment)
    if not able.variations and deployment.profile.name == "dall-e-2":
        raise _unsupported(deployment, "make variations", able.engine)
    if upload.mask is not None:
        raise InvalidRequest(
            "'mask' is not part of /v1/images/variations; use /v1/images/edits to change part "
            "of an image.",
            param="mask",
            code="unsupported_parameter",
        )
    images, _ = await _inspect(upload)
    params = validate_variation(
        fields,
        images,
        deployment.profile,
        deployment=deployment.name,
        max_user_length=app.settings.max_user_length,
    )
    params, inputs = stored_inputs(params, images, None)
    return await run_sync(request, deployment, params, tenant=tenant, inputs=inputs)


routes = [
    Route("/v1/images/edits", openai_edits, methods=["POST"]),
    Route("/openai/v1/images/edits", openai_edits, methods=["POST"]),
    Route("/openai/images/edits", openai_edits, methods=["POST"]),
    Route("/openai/deployments/{deployment_id}/images/edits", deployment_edits, methods=["POST"]),
    Route("/v1/images/variations", variations, methods=["POST"]),
]
