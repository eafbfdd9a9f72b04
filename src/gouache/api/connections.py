"""Connection-level guards for `gouache serve`: a deadline on request headers and a cap on open
connections. Neither can be done in ASGI (the app only sees a request once its headers are
complete), so they extend uvicorn's h11 protocol.

Without them, each client that opens a socket and sends a header line every few seconds holds a
file descriptor for as long as it likes; a few hundred of them exhaust the process.
"""

from __future__ import annotations

import asyncio
import json
import logging

from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("gouache.api")


def _raw_error(
    status: int, reason: str, code: str, message: str, error_type: str = "server_error"
) -> bytes:
    """A complete HTTP/1.1 error response in the API's shape, written without the parser (the
    request it answers may be incomplete), always followed by closing the connection."""
    body = json.dumps(
        {"error": {"code": code, "message": message, "type": error_type}},
        separators=(",", ":"),
    ).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nx-ms-error-code: {code}\r\nconnection: close\r\n\r\n"
    )
    return head.encode() + body


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a header deadline and a connection cap (set by `guarded`).

    The deadline costs nothing per request: a connection records when it began waiting for
    request headers (on opening, and after each response) in one float, and holds a single timer
    that, when it fires, either closes a connection still waiting past its deadline or sleeps
    until that deadline. Starting and cancelling a timer on every request instead cost a heap
    push, a cancelled handle and a `data_received` override per poll, measurable at thousands of
    polls a second."""

    header_timeout_s: float = 10.0
    max_connections: int = 512

    _header_timer: asyncio.TimerHandle | None = None
    _waiting_since: float = 0.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            log.warning("refusing a connection: %d are open already", self.max_connections)
            transport.write(
                _raw_error(
                    503,
                    "Service Unavailable",
                    "tooManyConnections",
                    f"The server has {self.max_connections} connections open, its limit. "
                    "Retry shortly; reuse one connection for many requests.",
                )
            )
            transport.close()
            return
        if self.header_timeout_s > 0:
            self._waiting_since = self.loop.time()
            self._schedule_check(self._waiting_since + self.header_timeout_s)

    def on_response_complete(self) -> None:
        self._waiting_since = self.loop.time()  # the next request's headers are due from now
        super().on_response_complete()

    def send_400_response(self, msg: str) -> None:
        """A request the HTTP parser cannot read gets the API's error JSON, not plain text."""
        self._stop_header_timer()
        self.transport.write(
            _raw_error(
                400,
                "Bad Request",
                "invalid_request",
                f"{msg} The request line or headers are not valid HTTP/1.1.",
                error_type="invalid_request_error",
            )
        )
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
        super().connection_lost(exc)

    def _schedule_check(self, when: float) -> None:
        self._header_timer = self.loop.call_at(when, self._check_headers)

    def _stop_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _check_headers(self) -> None:
        """The connection's one timer: close it if its request headers are late, otherwise
        sleep until the deadline of the headers it is (or will next be) waiting for."""
        self._header_timer = None
        if self.transport.is_closing():
            return
        now = self.loop.time()
        if self.cycle is not None and not self.cycle.response_complete:
            # a request is being served; the next headers are due a whole timeout after it ends
            self._schedule_check(now + self.header_timeout_s)
            return
        deadline = self._waiting_since + self.header_timeout_s
        if now < deadline:
            self._schedule_check(deadline)
            return
        self.transport.write(
            _raw_error(
                408,
                "Request Timeout",
                "requestTimeout",
                f"The request headers did not arrive within {self.header_timeout_s:g} s; the "
                "connection is closed.",
                error_type="invalid_request_error",
            )
        )
        self.transport.close()


def guarded(header_timeout_s: float, max_connections: int) -> type[GuardedH11Protocol]:
    """The protocol class to hand uvicorn (`Config(http=...)`), with this server's limits."""
    return type(
        "GouacheH11Protocol",
        (GuardedH11Protocol,),
        {"header_timeout_s": header_timeout_s, "max_connections": max_connections},
    )
