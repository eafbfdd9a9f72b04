"""Every HTTP request's guards in one ASGI pass: the Host check, the body deadline, the browser
headers and the request counter; and, once the Host is accepted, the fast answer to a poll of a
finished operation (`polls.py`).

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
from gouache.api.polls import TEMPLATE as POLL_TEMPLATE
from gouache.api.polls import FinishedPolls
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
        polls: FinishedPolls | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.headers = headers
        self.hosts = hosts
        self.body_timeout_s = body_timeout_s
        self.polls = polls
        # the labelled child of each (route, method, status) seen: `labels()` costs a lock and a
        # tuple check per request, a dict lookup does not (the sets are closed, so it stays small)
        self._counters: dict[tuple[str, str, int], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = _host_header(scope)
        refused = host is not None and not self.hosts.any and not self.hosts.allows(host)
        if not refused and self.polls is not None:
            answer = self.polls.answer(scope, host)
            if answer is not None:
                try:
                    await self._send_poll(send, *answer)
                finally:
                    self._count(scope, 200, POLL_TEMPLATE)
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
            if refused:
                assert host is not None
                refusal = self.hosts.refusal(host, scope.get("path", ""))
                await refusal(scope, receive, send_guarded)
                return
            if self.body_timeout_s > 0:
                started = asyncio.get_running_loop().time()
                receive = receive_within(receive, self.body_timeout_s, started)
            await self.app(scope, receive, send_guarded)
        finally:
            self._count(scope, status)

    @staticmethod
    async def _send_poll(send: Send, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
        """A finished poll's 200, with the headers the full route's JSONResponse and the browser
        guard would give it, in the same order."""
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _count(self, scope: Scope, status: int, template: str | None = None) -> None:
        """Count under the route's template: the one answered here, or the one Starlette's
        router matched (recorded in the scope), or "unmatched"."""
        if template is None:
            template = getattr(scope.get("route"), "path", None) or "unmatched"
        method = scope["method"] if scope["method"] in METHODS else "other"
        key = (template, method, status)
        counter = self._counters.get(key)
        if counter is None:
            counter = self._counters[key] = self.metrics.requests.labels(
                template, method, str(status)
            )
        counter.inc()


def _host_header(scope: Scope) -> bytes | None:
    """The request's (first) Host header; None for HTTP/1.0 without one, whose links fall back to
    the bound address."""
    for name, value in scope["headers"]:
        if name == b"host":
            return value
    return None
