"""A deadline on request bodies, so a client trickling bytes cannot hold a request open.

The header half of the slow-client guard lives in `connections.py` (it needs the HTTP parser);
this half is plain ASGI (applied in `guards.py`), so it works the same in-process and under any server."""

from __future__ import annotations

import asyncio

from starlette.types import Message, Receive

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


def receive_within(receive: Receive, seconds: float, started: float) -> Receive:
    """`receive`, except that the whole body must have arrived `seconds` after `started` (the
    event loop's time when the request's headers were in). Applied by `guards.RequestGuards`."""
    deadline = started + seconds
    complete = False

    async def receive_in_time() -> Message:
        nonlocal complete
        if complete:  # later receives only wait for a disconnect: no deadline
            return await receive()
        loop = asyncio.get_running_loop()
        try:
            message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
        except TimeoutError:
            raise BodyTimeout(seconds) from None
        if message["type"] != "http.request" or not message.get("more_body", False):
            complete = True
        return message

    return receive_in_time
