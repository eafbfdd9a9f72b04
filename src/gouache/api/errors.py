"""The one place where errors become `{"error": {...}}` responses."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from gouache.errors import GouacheError, InvalidRequest, NotFound

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


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(part) for part in first.get("loc", ()))
    return error_response(InvalidRequest(f"{where}: {first.get('msg', 'invalid request')}"))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(
        GouacheError("The server had an internal error; the details are in its log.")
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(GouacheError, _gouache_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
