"""API keys: `api-key` header (Azure) or `Authorization: Bearer` (OpenAI, Entra-style), or both at
once as older openai SDKs send them. A valid key names its tenant (see `gouache.tenants`)."""

from __future__ import annotations

import hmac
from collections.abc import Iterable

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
        presented = _presented(request.headers.get("api-key"), request.headers.get("authorization"))
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

    def tenant_of(self, headers: Iterable[tuple[bytes, bytes]]) -> str | None:
        """`check` on an ASGI scope's raw headers, for the poll fast path: the tenant, or None
        where `check` would refuse (the full route then says why)."""
        if not self._keys:
            return NO_KEYS_TENANT
        api_key = authorization = None
        for name, value in headers:
            if name == b"api-key" and api_key is None:
                api_key = value.decode("latin-1")
            elif name == b"authorization" and authorization is None:
                authorization = value.decode("latin-1")
        for key in _presented(api_key, authorization):
            tenant = self._tenant(key)
            if tenant is not None:
                return tenant
        return None


def _presented(api_key: str | None, authorization: str | None) -> list[str]:
    """The keys a request presents, in the order they are tried: `api-key`, then a bearer token
    (the first of each header, as Starlette's `Headers.get` reads them)."""
    presented = []
    if api_key:
        presented.append(api_key.strip())
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        presented.append(token.strip())
    return presented
