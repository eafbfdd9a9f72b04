"""A small keep-alive HTTP/1.1 load generator on raw asyncio streams.

Python HTTP clients cost more CPU per request than the servers measured here; this one parses only
the status line and Content-Length, so on a 2-core machine the client stays a small share of the load.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass


@dataclass
class Result:
    requests: int
    seconds: float
    latencies: list[float]
    statuses: dict[int, int]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    body = await reader.readexactly(length) if length else b""
    return status, body


def _request(
    method: str, path: str, host: str, body: bytes | None, headers: dict[str, str]
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body is not None:
        lines += ["content-type: application/json", f"content-length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


async def _worker(
    host, port, raw, deadline, count_limit, result: Result, counter: list[int]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline and counter[0] < count_limit:
            counter[0] += 1
            started = time.perf_counter()
            writer.write(raw)
            status, _ = await _read_response(reader)
            result.latencies.append(time.perf_counter() - started)
            result.statuses[status] = result.statuses.get(status, 0) + 1
            result.requests += 1
    finally:
        writer.close()


async def run_load(
    url_host: str,
    port: int,
    method: str,
    path: str,
    *,
    concurrency: int,
    seconds: float = 3.0,
    max_requests: int = 10**9,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Result:
    raw = _request(method, path, f"{url_host}:{port}", body, headers or {})
    result = Result(0, 0.0, [], {})
    counter = [0]
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *[
            _worker(url_host, port, raw, deadline, max_requests, result, counter)
            for _ in range(concurrency)
        ]
    )
    result.seconds = time.perf_counter() - started
    return result
