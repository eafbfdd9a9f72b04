"""The documented error shape, checked the same way by every test that reads an error."""

from __future__ import annotations

from typing import Any

OPENAI_PREFIXES = ("/v1/", "/openai/v1/")
ERROR_KEYS = {"code", "message", "param", "type", "inner_error"}


def check_error_body(body: Any, path: str) -> dict[str, Any]:
    """`{"error": {code, message, type, param?}}`: on the OpenAI routes `param` is always there
    (a string or null, as OpenAI's ErrorResponse requires); on the Azure routes and the rest it
    is a string or absent, never null, as Azure's 2024-10-21 spec types it."""
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert set(error) <= ERROR_KEYS, error
    assert isinstance(error["code"], str) and error["code"], error
    assert isinstance(error["message"], str) and error["message"], error
    assert isinstance(error["type"], str), error
    if path.startswith(OPENAI_PREFIXES):
        assert "param" in error and (error["param"] is None or isinstance(error["param"], str))
    else:
        assert error.get("param", "") is not None and isinstance(error.get("param", ""), str)
    return error
