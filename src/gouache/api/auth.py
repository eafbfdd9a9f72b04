"""API keys: `api-key` header (Azure) or `Authorization: Bearer` (OpenAI, Entra-style), or both at
once as older openai SDKs send them."""

from __future__ import annotations

import hmac

from starlette.requests import Request

from gouache.errors import Unauthorized


class KeyChecker:
    def __init__(self, keys: tuple[str, ...]) -> None:
        self._keys = tuple(key.encode() for key in keys)

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    def _known(self, candidate: str) -> bool:
        given = candidate.encode()
        # compare against every key, no early exit, so timing says nothing about which matched
        return any([hmac.compare_digest(given, key) for key in self._keys])

    def check(self, request: Request) -> None:
        if not self._keys:
            return
        presented = []
        api_key = request.headers.get("api-key")
        if api_key:
            presented.append(api_key.strip())
        authorization = request.headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            presented.append(token.strip())
        if not presented:
            raise Unauthorized(
                "Access denied due to missing subscription key. Make sure to include the key in "
                "the 'api-key' header or as 'Authorization: Bearer <key>'."
            )
        if not any(self._known(key) for key in presented):
            raise Unauthorized(
                "Access denied due to invalid subscription key. Make sure to provide a valid key "
                "for this gouache server."
            )
