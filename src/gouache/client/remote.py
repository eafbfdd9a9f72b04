"""Drive the flows of `protocol.py` over HTTP: `httpx.Client` or `httpx.AsyncClient`."""

from __future__ import annotations

import asyncio
import time
from typing import TypeVar

import httpx

from gouache import __version__
from gouache.client.protocol import Call, Flow, Reply, Sleep

T = TypeVar("T")

USER_AGENT = f"gouache-client/{__version__}"


def _kwargs(call: Call) -> dict:
    return {
        "headers": dict(call.headers),
        "json": call.json,
        "timeout": call.timeout,
        "follow_redirects": call.follow_redirects,
    }


def new_client() -> httpx.Client:
    return httpx.Client(headers={"user-agent": USER_AGENT}, follow_redirects=False)


def new_async_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(headers={"user-agent": USER_AGENT}, follow_redirects=False)


def run_sync(flow: Flow[T], client: httpx.Client) -> T:
    reply: Reply = None
    while True:
        try:
            action = flow.send(reply)
        except StopIteration as stop:
            return stop.value
        if isinstance(action, Sleep):
            time.sleep(action.seconds)
            reply = None
            continue
        try:
            reply = client.request(action.method, action.url, **_kwargs(action))
        except httpx.TransportError as exc:
            reply = exc


async def run_async(flow: Flow[T], client: httpx.AsyncClient) -> T:
    reply: Reply = None
    while True:
        try:
            action = flow.send(reply)
        except StopIteration as stop:
            return stop.value
        if isinstance(action, Sleep):
            await asyncio.sleep(action.seconds)
            reply = None
            continue
        try:
            reply = await client.request(action.method, action.url, **_kwargs(action))
        except httpx.TransportError as exc:
            reply = exc
