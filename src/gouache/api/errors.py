"""The one place where errors become `{"error": {...}}` responses."""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Mount

from gouache.errors import GouacheError, NotFound

log = logging.getLogger("gouache.api")

# OpenAI's ErrorResponse requires `param` and allows null; Azure's 2024-10-21 spec types it as a
# string, so on every other route a missing param is left out rather than sent as null.
OPENAI_PREFIXES = ("/v1/", "/openai/v1/")

# nginx's "client closed request": what a request whose client went away mid-upload is counted as.
CLIENT_CLOSED = 499

STATIC_METHODS = frozenset({"GET", "HEAD"})


class ErrorJSONResponse(JSONResponse):
    """JSON that never fails to render: text a client sent (even text that is not valid Unicode)
    is escaped rather than raising while the error about it is written."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, separators=(",", ":")).encode("ascii")


def wire_error(exc: GouacheError, path: str) -> dict[str, Any]:
    body = exc.to_wire()
    if body["error"].get("param") is None and not path.startswith(OPENAI_PREFIXES):
        body["error"].pop("param", None)
    return body


def error_response(exc: GouacheError, path: str = "") -> JSONResponse:
    headers = dict(exc.headers)
    headers["x-ms-error-code"] = exc.code
    return ErrorJSONResponse(wire_error(exc, path), status_code=exc.status_code, headers=headers)


async def _gouache_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GouacheError)
    return error_response(exc, request.url.path)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route offers on this path, for the `Allow` header of a 405."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        offered = getattr(route, "methods", None)
        if match != Match.NONE and offered:
            methods.update(offered)
    if isinstance(request.scope.get("route"), Mount):
        methods.update(STATIC_METHODS)  # a mounted static folder answers GET and HEAD
    return sorted(methods)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    path = request.url.path
    if exc.status_code == 404:
        return error_response(
            NotFound(f"Resource not found: no route {request.method} {path}."), path
        )
    if exc.status_code == 405:
        allow = ", ".join(allowed_methods(request))
        error = GouacheError(
            f"Method {request.method} is not allowed on {path}; allowed: {allow}.",
            code="methodNotAllowed",
            headers={"allow": allow},
        )
        error.status_code = 405
        error.type = "invalid_request_error"
        return error_response(error, path)
    error = GouacheError(str(exc.detail), code=str(exc.status_code))
    error.status_code = exc.status_code
    return error_response(error, path)


async def _client_gone(request: Request, _exc: Exception) -> Response:
    """The client closed the connection before its body arrived: nobody is left to answer, and it
    is not a server error, so it is neither logged as one nor counted as a 500."""
    log.debug("client went away during %s %s", request.method, request.url.path)
    return Response(status_code=CLIENT_CLOSED)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(
        GouacheError("The server had an internal error; the details are in its log."),
        request.url.path,
    )


EXCEPTION_HANDLERS = {
    GouacheError: _gouache_error,
    StarletteHTTPException: _http_error,
    ClientDisconnect: _client_gone,
    Exception: _unexpected,
}
