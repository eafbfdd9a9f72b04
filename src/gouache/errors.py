"""The one exception hierarchy of gouache.

Every error a user can see is a `GouacheError` carrying its HTTP status and wire `code`; the API layer
turns them into `{"error": {"code", "message", "param", "type"}}` in exactly one place. Engines and the
job layer raise these too, so an engine failure reaches the operation's `error` field unchanged.
"""

from __future__ import annotations

from typing import Any


class GouacheError(Exception):
    """Root of all user-visible errors."""

    status_code: int = 500
    code: str = "internalFailure"
    type: str = "server_error"

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        inner_error: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code
        self.headers = headers or {}
        self.inner_error = inner_error

    def to_wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "param": self.param,
            "type": self.type,
        }
        if self.inner_error is not None:
            body["inner_error"] = self.inner_error
        return {"error": body}


class InvalidRequest(GouacheError):
    status_code = 400
    code = "invalid_request"
    type = "invalid_request_error"


class PayloadTooLarge(InvalidRequest):
    status_code = 413
    code = "payload_too_large"


class Unauthorized(GouacheError):
    status_code = 401
    code = "401"
    type = "authentication_error"


class Forbidden(GouacheError):
    status_code = 403
    code = "forbidden"
    type = "permission_error"


class NotFound(GouacheError):
    status_code = 404
    code = "404"
    type = "invalid_request_error"


class Conflict(GouacheError):
    status_code = 409
    code = "unexpectedEntityState"
    type = "invalid_request_error"


class TooManyRequests(GouacheError):
    status_code = 429
    code = "429"
    type = "rate_limit_error"

    def __init__(self, message: str, *, retry_after: int, **kwargs: Any) -> None:
        headers = {"retry-after": str(retry_after), "retry-after-ms": str(retry_after * 1000)}
        super().__init__(message, headers=headers, **kwargs)
        self.retry_after = retry_after


class ServiceUnavailable(GouacheError):
    status_code = 503
    code = "serviceUnavailable"
    type = "server_error"


class StoreUnavailable(ServiceUnavailable):
    """The operation database cannot be written or read just now (locked, full, or gone).

    Clients get a 503 with retry-after: the request was not accepted and may be sent again."""

    code = "storeUnavailable"


class StorageError(ServiceUnavailable):
    """The image storage (a local folder or an object store) failed: full, read-only, refused or
    unreachable. Usually passing, so 503; the message names the cause in words, never a server
    path, bucket URL or credential, because it may reach a client."""

    code = "storageUnavailable"


class GenerationFailed(GouacheError):
    """An engine could not make the images; the operation ends `failed` with this code and message."""

    status_code = 500
    code = "generationFailed"
    type = "server_error"


class ContentFiltered(GouacheError):
    """The prompt or an image was refused by a safety system (ours or an upstream's)."""

    status_code = 400
    code = "content_policy_violation"
    type = "invalid_request_error"

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault(
            "inner_error",
            {"code": "ResponsibleAIPolicyViolation", "content_filter_results": {}},
        )
        super().__init__(
            message
            or "Your request was rejected as a result of our safety system. "
            "Your prompt may contain text that is not allowed by our safety system.",
            **kwargs,
        )


class UpstreamError(GouacheError):
    """A forwarding engine's upstream answered with an error we pass on as is."""

    type = "server_error"

    def __init__(self, message: str, *, status_code: int, code: str, **kwargs: Any) -> None:
        super().__init__(message, code=code, **kwargs)
        self.status_code = status_code
        if status_code < 500:
            self.type = "invalid_request_error"


class ConfigError(GouacheError):
    """Bad configuration found at start-up; the server refuses to start with this message."""

    code = "configError"
