"""How an upstream's refusals become gouache errors, for the forwarding engine.

The rule: what the end user can act on passes through as the upstream said it (a 400 for a bad
size, a content-filter refusal, a 429 with its retry-after); what only the operator can fix (the
upstream rejecting gouache's own key, or not knowing the configured deployment) becomes a 502 that
names the upstream, so a client is never told its own key is wrong when it is not.
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Mapping
from typing import Any

import httpx

from gouache.errors import ContentFiltered, GouacheError, TooManyRequests, UpstreamError

CONTENT_FILTER_CODES = {"content_policy_violation", "contentFilter", "content_filter"}
_OPERATOR_STATUSES = {
    401: "rejected gouache's credentials",
    403: "refused access",
    404: "has no such route or deployment",
}


def parse_retry_after(headers: Mapping[str, str], default: int = 1) -> int:
    """Whole seconds to wait, from `retry-after-ms`, `retry-after` (seconds or an HTTP date)."""
    milliseconds = headers.get("retry-after-ms")
    if milliseconds:
        try:
            return max(1, math.ceil(float(milliseconds) / 1000))
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return default
    try:
        return max(0, math.ceil(float(value)))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0, math.ceil(when.timestamp() - time.time()))


def error_body(response: httpx.Response) -> dict[str, Any]:
    """The `error` object of an OpenAI/Azure error body; a synthetic one for anything else."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"]
    text = response.text.strip()[:500] or response.reason_phrase
    return {"code": str(response.status_code), "message": text}


def is_content_filter(error: Mapping[str, Any]) -> bool:
    inner = error.get("inner_error") or error.get("innererror") or {}
    inner_code = inner.get("code") if isinstance(inner, Mapping) else None
    return error.get("code") in CONTENT_FILTER_CODES or inner_code == "ResponsibleAIPolicyViolation"


def content_filtered(error: Mapping[str, Any]) -> ContentFiltered:
    inner = error.get("inner_error") or error.get("innererror")
    kwargs: dict[str, Any] = {}
    if isinstance(inner, dict):
        kwargs["inner_error"] = inner
    return ContentFiltered(error.get("message") or None, **kwargs)


def error_from_response(response: httpx.Response, endpoint: str) -> GouacheError:
    """Map one non-2xx upstream answer to the error gouache raises."""
    status = response.status_code
    error = error_body(response)
    message = str(error.get("message") or f"upstream answered HTTP {status}")
    code = str(error.get("code") or status)
    param = error.get("param") if isinstance(error.get("param"), str) else None
    if status == 429:
        return TooManyRequests(message, retry_after=parse_retry_after(response.headers))
    if status == 400 and is_content_filter(error):
        return content_filtered(error)
    if status in _OPERATOR_STATUSES:
        return UpstreamError(
            f"the upstream image service {endpoint} {_OPERATOR_STATUSES[status]} "
            f"(HTTP {status}: {message}); check this deployment's forward options "
            "(endpoint, api_key/api_key_env, deployment/model, api_version)",
            status_code=502,
            code=code,
        )
    return UpstreamError(message, status_code=status, code=code, param=param)


def operation_error(error: Mapping[str, Any] | None, endpoint: str, status: str) -> GouacheError:
    """Map a failed Azure async operation (`status: failed`, `error: {...}`) to a gouache error."""
    error = error or {}
    if is_content_filter(error):
        return content_filtered(error)
    message = error.get("message") or f"the upstream operation ended {status!r}"
    return UpstreamError(
        f"the upstream image service {endpoint} failed the operation: {message}",
        status_code=502,
        code=str(error.get("code") or "upstreamFailed"),
    )


def transport_error(exc: httpx.HTTPError, endpoint: str, timeout_s: float) -> UpstreamError:
    """Network failures: 504 when the upstream was too slow, 502 when it could not be reached."""
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamError(
            f"the upstream image service {endpoint} did not answer within {timeout_s:g} s "
            f"({type(exc).__name__})",
            status_code=504,
            code="upstreamTimeout",
        )
    return UpstreamError(
        f"cannot reach the upstream image service {endpoint}: {exc or type(exc).__name__}",
        status_code=502,
        code="upstreamUnreachable",
    )
