"""API keys: `api-key` header (Azure) or `Authorization: Bearer` (OpenAI, Entra-style), or both at
once as older openai SDKs send them. A valid key names its tenant (see `gouache.tenants`)."""

from __future__ import annotations

import hmac

from starlette.requests import Request

from gouache.errors import Unauthorized
from gouache.tenants import NO_KEYS_TENANT, ApiKey, digest


class KeyChecker:
    def __init__(self, keys: tuple[ApiKey, ...]) -> None:
        self._keys = keys

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    def _tenant(self, candidate: str) -> str | None:
        given = digest(candidate)
        # compare against every key, no early exit, so timing says nothing about which matched
        matches = [hmac.compare_digest(given, key.digest) for key in self._keys]
        for key, matched in zip(self._keys, matches, strict=True):
            if matched:
                return key.name
        return None

    def check(self, request: Request) -> str:
        """The tenant the request's key belongs to; the one tenant of a keyless server."""
        if not self._keys:
            return NO_KEYS_TENANT
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
        for key in presented:
            tenant = self._tenant(key)
            if tenant is not None:
                return tenant
        raise Unauthorized(
            "Access denied due to invalid subscription key. Make sure to provide a valid key "
            "for this gouache server."
        )
