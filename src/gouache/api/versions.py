"""api-version handling for the Azure routes."""

from __future__ import annotations

from starlette.requests import Request

from gouache.errors import InvalidRequest, NotFound
from gouache.validation import ASYNC_FIELDS, GA_FIELDS, PREVIEW_FIELDS

# The DALL-E 2 submit/poll operation API existed from 2023-06-01-preview to 2023-10-01-preview.
ASYNC_VERSIONS = (
    "2023-06-01-preview",
    "2023-07-01-preview",
    "2023-08-01-preview",
    "2023-09-01-preview",
    "2023-10-01-preview",
)

# The deployments route; request fields follow 2024-02-01/2024-10-21 until 2025-04-01-preview,
# which adds the gpt-image-1 fields.
GA_VERSIONS = (
    "2023-12-01-preview",
    "2024-02-01",
    "2024-02-15-preview",
    "2024-03-01-preview",
    "2024-04-01-preview",
    "2024-05-01-preview",
    "2024-06-01",
    "2024-07-01-preview",
    "2024-08-01-preview",
    "2024-09-01-preview",
    "2024-10-01-preview",
    "2024-10-21",
    "2024-12-01-preview",
    "2025-01-01-preview",
    "2025-02-01-preview",
    "2025-03-01-preview",
)
PREVIEW_VERSIONS = ("2025-04-01-preview",)
DEPLOYMENT_VERSIONS = GA_VERSIONS + PREVIEW_VERSIONS


def require_version(request: Request, supported: tuple[str, ...], route: str) -> str:
    version = request.query_params.get("api-version")
    if not version:
        raise InvalidRequest(
            f"Missing required query parameter 'api-version'. Supported on {route}: "
            f"{', '.join(supported)}.",
            param="api-version",
            code="missing_required_parameter",
        )
    if version not in supported:
        raise NotFound(
            f"Resource not found: api-version '{version}' is not supported on {route}. "
            f"Supported: {', '.join(supported)}.",
        )
    return version


def deployment_fields(version: str) -> frozenset[str]:
    return PREVIEW_FIELDS if version in PREVIEW_VERSIONS else GA_FIELDS


def async_fields() -> frozenset[str]:
    return ASYNC_FIELDS
