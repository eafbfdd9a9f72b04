"""api-version handling for the Azure routes.

The rule for versions gouache has not heard of: a dated version (`YYYY-MM-DD` or
`YYYY-MM-DD-preview`) later than the newest one a route knows is served with that newest known
behaviour, so a client whose default moved on (Semantic Kernel sends 2025-08-28) keeps working.
Anything else that is not listed (a typo, an older version the route never had) is a 404 listing
the supported ones, as Azure answers. The Azure v1 surface (`/openai/v1/...`) takes `v1`,
`preview` or no api-version at all.
"""

from __future__ import annotations

import datetime
import re
from urllib.parse import unquote_plus

from starlette.datastructures import QueryParams
from starlette.requests import Request

from gouache.errors import InvalidRequest, NotFound
from gouache.validation import ASYNC_FIELDS, GA_FIELDS, PREVIEW_FIELDS

# The DALL-E 2 submit/poll operation API existed from 2023-06-01-preview to 2023-10-01-preview.
# Later versions are known not to have it, so the newer-version rule does not apply to it.
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
# Image edits on the deployments route start with 2025-04-01-preview.
EDIT_VERSIONS = PREVIEW_VERSIONS
NEWEST_DEPLOYMENT_VERSION = PREVIEW_VERSIONS[-1]

# The Azure v1 surface (/openai/v1/...): these values, or none at all.
V1_VERSIONS = ("v1", "preview")

_DATED = re.compile(r"^(\d{4}-\d{2}-\d{2})(-preview)?$")


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


def version_date(version: str) -> datetime.date | None:
    """The date of a dated api-version, or None for anything else (including impossible dates)."""
    match = _DATED.match(version)
    if match is None:
        return None
    try:
        return datetime.date.fromisoformat(match.group(1))
    except ValueError:
        return None


def is_newer_than(version: str, newest: str) -> bool:
    """Whether `version` is dated strictly after the date of `newest`."""
    date = version_date(version)
    known = version_date(newest)
    return date is not None and known is not None and date > known


def require_version(
    request: Request, supported: tuple[str, ...], route: str, *, newer: bool = False
) -> str:
    """The api-version sent, if the route serves it. `newer`: dated versions after the newest
    supported one are served too (as the newest)."""
    version = query_version(request.scope.get("query_string", b""))
    if not version:
        raise InvalidRequest(
            f"Missing required query parameter 'api-version'. Supported on {route}: "
            f"{', '.join(supported)}.",
            param="api-version",
            code="missing_required_parameter",
        )
    if version in supported or (newer and is_newer_than(version, supported[-1])):
        return version
    later = f" or any dated version after {supported[-1]}" if newer else ""
    raise NotFound(
        f"Resource not found: api-version '{version}' is not supported on {route}. "
        f"Supported: {', '.join(supported)}{later}.",
    )


def require_v1_version(request: Request, route: str) -> str | None:
    """The Azure v1 surface takes api-version `v1`, `preview`, or none."""
    version = request.query_params.get("api-version")
    if version is None or version in V1_VERSIONS:
        return version
    raise InvalidRequest(
        f"api-version '{version}' is not supported on {route}: the v1 surface takes "
        "api-version=v1, api-version=preview or none. Dated versions belong to the deployments "
        "route, /openai/deployments/{deployment-id}/images/...",
        param="api-version",
        code="invalid_value",
    )


def deployment_fields(version: str) -> frozenset[str]:
    preview = version in PREVIEW_VERSIONS or is_newer_than(version, NEWEST_DEPLOYMENT_VERSION)
    return PREVIEW_FIELDS if preview else GA_FIELDS


def async_fields() -> frozenset[str]:
    """The operation API's fields, plus `partial_images`: previews of a queued operation are
    followed on its events route (a gouache extension, docs/api.md)."""
    return ASYNC_FIELDS | {"partial_images"}
