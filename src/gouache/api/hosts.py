"""The Host header check that keeps DNS rebinding from reaching a local server.

A page on `attacker.example` can make its own name resolve to 127.0.0.1 and then talk to a
gouache on this machine as if it were same-origin. What it cannot change is the Host header its
requests carry: it is the attacker's name. So only names this server is known by are served:
the loopback names, IP addresses (a rebinding attack needs a DNS name, so an address literal is
never one), the address it is bound to, `public_url`'s host and the configured `allowed_hosts`.
Since every link and `operation-location` is built from the Host header, the check also means no
unchecked header is ever reflected into them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp

from gouache.api.errors import error_response
from gouache.errors import InvalidRequest
from gouache.settings import Settings

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
WILDCARD_BINDS = frozenset({"", "0.0.0.0", "::"})


def host_name(header: str) -> str:
    """The name part of a Host header, lower-cased, without port, brackets or a final dot."""
    value = header.strip().lower()
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    if value.count(":") > 1:  # a bare IPv6 address
        return value
    return value.split(":", 1)[0].rstrip(".")


def is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class AllowedHosts:
    """Which Host names this server answers to."""

    def __init__(self, names: Iterable[str]) -> None:
        exact: set[str] = set()
        suffixes: list[str] = []
        self.any = False
        for raw in names:
            name = raw.strip().lower().rstrip(".")
            if name == "*":
                self.any = True
            elif name.startswith("*."):
                suffixes.append(name[1:])
            elif name:
                exact.add(host_name(name))
        self.exact = frozenset(exact)
        self.suffixes = tuple(suffixes)

    @classmethod
    def from_settings(cls, settings: Settings) -> AllowedHosts:
        names = list(settings.allowed_hosts)
        if settings.public_url:
            names.append(urlsplit(settings.public_url).hostname or "")
        if settings.host not in WILDCARD_BINDS:
            names.append(settings.host)
        return cls(names)

    def allows(self, name: str) -> bool:
        if self.any or name in LOOPBACK_NAMES or name.endswith(".localhost"):
            return True
        if is_address(name) or name in self.exact:
            return True
        return any(name.endswith(suffix) for suffix in self.suffixes)


class HostCheck:
    """Decides, with a small cache, whether a Host header names this server, and words the
    refusal in the API's error shape. Applied to every request by `guards.RequestGuards`."""

    # verdicts for recent Host values: real clients send the same few over and over
    CACHE_SIZE = 64

    def __init__(self, allowed: AllowedHosts) -> None:
        self.allowed = allowed
        self.any = allowed.any
        self._verdicts: dict[bytes, bool] = {}

    def allows(self, header: bytes) -> bool:
        verdict = self._verdicts.get(header)
        if verdict is None:
            verdict = self.allowed.allows(host_name(header.decode("latin-1")))
            if len(self._verdicts) >= self.CACHE_SIZE:
                self._verdicts.clear()  # bounded, whatever names clients invent
            self._verdicts[header] = verdict
        return verdict

    @staticmethod
    def refusal(header: bytes, path: str) -> ASGIApp:
        shown = header.decode("latin-1")
        # the configured names are not listed: a caller with the wrong name learns none of them
        error = InvalidRequest(
            f"The Host header '{shown[:100]}' is not a name of this server. It answers to "
            "localhost, IP addresses and the names its operator configured; reach it by one of "
            "those, or (operators) add the name to allowed_hosts (GOUACHE_ALLOWED_HOSTS) or "
            "public_url.",
            code="invalid_host",
        )
        return error_response(error, path)
