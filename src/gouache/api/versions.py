"""api-version handling for the Azure routes."""

from __future__ import annotations

from urllib.parse import unquote_plus

from starlette.datastructures import QueryParams
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


def query_version(query_string: bytes) -> str | None:
    """The `api-version` of a raw query string (the last one), decoded as Starlette's query parser would.

    Every Azure request carries it and most carry nothing else, so this looks for it directly
    instead of parsing the whole query into a multi-dict (a tenth of a poll's own cost)."""
    found: bytes | None = None
    for part in query_string.split(b"&"):
        if part.startswith(b"api-version="):
            found = part[12:]  # the last one wins, as in Starlette's QueryParams
        elif part == b"api-version":
            found = b""
        elif b"%" in part or b"+" in part:  # an escaped key might spell api-version: be exact
            return QueryParams(query_string).get("api-version")
    if found is None:
        return None
    text = found.decode("latin-1")
    return unquote_plus(text) if b"%" in found or b"+" in found else text


def require_version(request: Request, supported: tuple[str, ...], route: str) -> str:
    version = query_version(request.scope.get("query_string", b""))
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
