"""The one place where errors become `{"error": {...}}` responses."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from gouache.errors import GouacheError, NotFound

log = logging.getLogger("gouache.api")


def error_response(exc: GouacheError) -> JSONResponse:
    headers = dict(exc.headers)
    headers["x-ms-error-code"] = exc.code
    return JSONResponse(exc.to_wire(), status_code=exc.status_code, headers=headers)


async def _gouache_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GouacheError)
    return error_response(exc)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        return error_response(
            NotFound(f"Resource not found: no route {request.method} {request.url.path}.")
        )
    if exc.status_code == 405:
        error = GouacheError(
            f"Method {request.method} is not allowed on {request.url.path}.",
            code="methodNotAllowed",
        )
        error.status_code = 405
        error.type = "invalid_request_error"
        return error_response(error)
    error = GouacheError(str(exc.detail), code=str(exc.status_code))
    error.status_code = exc.status_code
    return error_response(error)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(
        GouacheError("The server had an internal error; the details are in its log.")
    )


EXCEPTION_HANDLERS = {
    GouacheError: _gouache_error,
    StarletteHTTPException: _http_error,
    Exception: _unexpected,
}
