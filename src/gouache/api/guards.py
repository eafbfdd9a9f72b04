"""Every HTTP request's guards in one ASGI pass: the Host check, the body deadline, the browser
headers and the request counter.

They were four middlewares, each with its own coroutine frame and `send` wrapper; a poll of a
finished operation went through all four, which cost about as much as the route itself. What each
guard does, and why, is unchanged and lives beside its reasons: `hosts.py` (DNS rebinding),
`limits.py` (slow bodies), `browser.py` (sniffing, framing, content policy); see docs/security.md.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gouache.api.browser import SecurityHeaders
from gouache.api.hosts import HostCheck
from gouache.api.limits import receive_within
from gouache.metrics import Metrics

# Label values come from closed sets: a client can invent methods and paths, not series.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})


class RequestGuards:
    """In order: count the request (by route template, method and status, whatever happens
    inside), add the browser headers to its response, refuse a Host that is not this server's,
    and hold its body to the deadline."""

    def __init__(
        self,
        app: ASGIApp,
        metrics: Metrics,
        headers: SecurityHeaders,
        hosts: HostCheck,
        body_timeout_s: float,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.headers = headers
        self.hosts = hosts
        self.body_timeout_s = body_timeout_s
        # the labelled child of each (route, method, status) seen: `labels()` costs a lock and a
        # tuple check per request, a dict lookup does not (the sets are closed, so it stays small)
        self._counters: dict[tuple[str, str, int], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        security = self.headers

        async def send_guarded(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = security.add(message.get("headers", ()), scope["path"])
            await send(message)

        try:
            header = self._host_refused(scope)
            if header is not None:
                refusal = self.hosts.refusal(header, scope.get("path", ""))
                await refusal(scope, receive, send_guarded)
                return
            if self.body_timeout_s > 0:
                started = asyncio.get_running_loop().time()
                receive = receive_within(receive, self.body_timeout_s, started)
            await self.app(scope, receive, send_guarded)
        finally:
            self._count(scope, status)

    def _host_refused(self, scope: Scope) -> bytes | None:
        """The Host header, when it names another server; None when the request may go on."""
        if self.hosts.any:
            return None
        for name, value in scope["headers"]:
            if name == b"host":
                return None if self.hosts.allows(value) else value
        return None  # HTTP/1.0 without Host: links fall back to the bound address

    def _count(self, scope: Scope, status: int) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        method = scope["method"] if scope["method"] in METHODS else "other"
        key = (template, method, status)
        counter = self._counters.get(key)
        if counter is None:
            counter = self._counters[key] = self.metrics.requests.labels(
                template, method, str(status)
            )
        counter.inc()
