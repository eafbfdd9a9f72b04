"""A deadline on request bodies, so a client trickling bytes cannot hold a request open.

The header half of the slow-client guard lives in `connections.py` (it needs the HTTP parser);
this half is plain ASGI, so it works the same in-process and under any server."""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gouache.errors import GouacheError


class BodyTimeout(GouacheError):
    status_code = 408
    code = "requestTimeout"
    type = "invalid_request_error"

    def __init__(self, seconds: float) -> None:
        super().__init__(
            f"The request body did not arrive within {seconds:g} s; the connection is closed. "
            "Send the whole body at once (a few kilobytes of JSON).",
            headers={"connection": "close"},
        )


class BodyDeadline:
    """Every request must deliver its whole body within `seconds` of its headers arriving."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.seconds <= 0:
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.seconds
        complete = False

        async def receive_in_time() -> Message:
            nonlocal complete
            if complete:  # later receives only wait for a disconnect: no deadline
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                raise BodyTimeout(self.seconds) from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                complete = True
            return message

        await self.app(scope, receive_in_time, send)
