"""The remote conversation, written once for the sync and the async client.

Each flow is a generator that yields what to do next, `Call` (one HTTP request) or `Sleep`, and is
sent back the `httpx.Response` (or the `httpx.TransportError` the request raised). `remote.py` drives
the same flows with `httpx.Client` + `time.sleep` or `httpx.AsyncClient` + `asyncio.sleep`, so
retries, polling, the overall deadline and the checks exist once and are tested once.
"""

from __future__ import annotations

import base64
import binascii
import time
import uuid
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from gouache.client.errors import DownloadError, GenerationTimeout, RemoteError
from gouache.client.files import Checked, check_image, save_all
from gouache.client.progress import Progress
from gouache.client.request import Inputs, Remote
from gouache.client.results import ImageResult, Operation, OperationResult
from gouache.client.retry import RetryPolicy, parse_retry_after

T = TypeVar("T")

TERMINAL = ("succeeded", "failed", "canceled", "deleted")
DEFAULT_POLL_S = 1.0  # when the server sends no retry-after (openai 0.28 would wait 10 s)
MAX_POLL_S = 30.0
SUBMIT_TIMEOUT_S = 60.0
POLL_TIMEOUT_S = 30.0
DOWNLOAD_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    json: dict[str, Any] | None = None
    timeout: float = 30.0
    follow_redirects: bool = False


@dataclass(frozen=True)
class Sleep:
    seconds: float


Reply = httpx.Response | BaseException | None
Flow = Generator[Call | Sleep, Reply, T]


class Clock:
    """The caller's total time budget for one generation."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.start = time.monotonic()
        self.deadline = self.start + timeout

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def expired(self) -> bool:
        return self.remaining() <= 0


@dataclass
class Generated:
    operation: Operation
    payloads: list[bytes | None]  # image bytes the server sent inline (b64_json), by index


def remote_error(response: httpx.Response) -> RemoteError:
    """The server's `{"error": {"code", "message"}}`, or what there is of a non-JSON answer."""
    param = None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        code = str(error.get("code") or response.status_code)
        message = str(error.get("message") or response.reason_phrase)
        param = error.get("param")
    else:
        text = " ".join(response.text.split())[:300]
        code = str(response.status_code)
        message = text or response.reason_phrase or "no details"
    return RemoteError(message, status_code=response.status_code, code=code, param=param)


def _json_object(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise RemoteError(
            f"{what} is not a JSON object: {response.text[:200]!r}",
            status_code=response.status_code,
            code="invalid_response",
        )
    return body


def send(
    call: Call,
    *,
    policy: RetryPolicy,
    clock: Clock,
    what: str,
    on_timeout: Callable[[], GenerationTimeout],
) -> Flow[httpx.Response]:
    """One request, retried on 429/5xx/network errors; returns the 2xx response."""
    attempt = 0
    while True:
        attempt += 1
        remaining = clock.remaining()
        if remaining <= 0:
            raise on_timeout()
        reply = yield replace(call, timeout=min(call.timeout, remaining))
        if isinstance(reply, httpx.Response):
            if reply.is_success:
                return reply
            error = remote_error(reply)
            if not policy.retryable_status(reply.status_code):
                raise error
            wait = policy.delay(attempt, parse_retry_after(reply.headers))
        elif isinstance(reply, httpx.TimeoutException) and clock.expired():
            raise on_timeout()
        elif isinstance(reply, BaseException) and policy.retryable_exception(reply):
            detail = str(reply) or "no details"
            error = RemoteError(
                f"{what} ({urlsplit(call.url).netloc}) failed: {type(reply).__name__}: {detail}",
                status_code=None,
                code="network_error",
            )
            wait = policy.delay(attempt)
        elif isinstance(reply, BaseException):
            raise reply
        else:  # pragma: no cover - a driver bug
            raise TypeError(f"unexpected reply {reply!r}")
        if attempt >= policy.attempts:
            error.message += f" (gave up after {attempt} tries)"
            raise error
        if wait >= clock.remaining():
            error.message += f" (a retry in {wait:.1f} s would pass the timeout)"
            raise error
        yield Sleep(wait)


def operation_flow(
    remote: Remote, inputs: Inputs, policy: RetryPolicy, clock: Clock, progress: Progress
) -> Flow[Generated]:
    """DALL-E 2 style: POST :submit, then GET the operation-location until it ends."""
    body = inputs.body()
    if remote.deployment:
        body["model"] = remote.deployment  # gouache picks the deployment by `model` here
    headers = remote.headers()
    state: dict[str, Any] = {"id": None, "location": None, "status": "submitting"}

    def timed_out() -> GenerationTimeout:
        if state["id"] is None:
            message = f"The endpoint did not accept the request within {clock.timeout:g} s."
        else:
            message = (
                f"Operation {state['id']} was still {state['status']} after {clock.timeout:g} s. "
                f"It may still finish on the server: poll {state['location']} or allow more "
                "time (--timeout / timeout=)."
            )
        return GenerationTimeout(
            message,
            operation_id=state["id"],
            operation_location=state["location"],
            status=state["status"],
        )

    progress("submitting", clock.elapsed())
    response = yield from send(
        Call("POST", remote.submit_url, headers, body, SUBMIT_TIMEOUT_S),
        policy=policy,
        clock=clock,
        what="submitting the request",
        on_timeout=timed_out,
    )
    data = _json_object(response, "The submit response")
    state["id"] = data.get("id")
    state["location"] = response.headers.get("operation-location") or (
        remote.operation_url(str(state["id"])) if state["id"] else None
    )
    if not state["location"]:
        raise RemoteError(
            "The endpoint accepted the request but sent neither an operation-location header "
            "nor an operation id.",
            status_code=response.status_code,
            code="invalid_response",
        )
    state["status"] = str(data.get("status") or "notRunning")
    wait = parse_retry_after(response.headers)
    while state["status"] not in TERMINAL:
        progress(state["status"], clock.elapsed())
        delay = DEFAULT_POLL_S if wait is None else min(wait, MAX_POLL_S)
        yield Sleep(max(0.0, min(delay, clock.remaining())))
        if clock.expired():
            raise timed_out()
        response = yield from send(
            Call("GET", state["location"], headers, None, POLL_TIMEOUT_S),
            policy=policy,
            clock=clock,
            what=f"polling operation {state['id']}",
            on_timeout=timed_out,
        )
        data = _json_object(response, "The operation")
        if "status" not in data:
            raise RemoteError(
                f"The operation has no status: {response.text[:200]!r}",
                status_code=response.status_code,
                code="invalid_response",
            )
        state["status"] = str(data["status"])
        wait = parse_retry_after(response.headers)
    progress(state["status"], clock.elapsed())
    if state["status"] == "failed":
        error = data.get("error") if isinstance(data.get("error"), dict) else {}
        raise RemoteError(
            str(error.get("message") or f"Operation {state['id']} failed."),
            status_code=None,
            code=str(error.get("code") or "failed"),
            operation_id=state["id"],
        )
    if state["status"] != "succeeded":
        raise RemoteError(
            f"Operation {state['id']} ended {state['status']} without images.",
            status_code=None,
            code=state["status"],
            operation_id=state["id"],
        )
    operation = Operation.from_wire(data)
    return Generated(operation, [None] * len(operation.result.data if operation.result else []))


def deployments_flow(
    remote: Remote, inputs: Inputs, policy: RetryPolicy, clock: Clock, progress: Progress
) -> Flow[Generated]:
    """DALL-E 3 style: one POST to the deployment that answers with the images.

    The answer is not an operation, so the client shapes one: `id` is a UUID made here (the server
    never saw it; it names the saved files), `created` is the server's, `expires` is None unless
    the server sent one (Azure's links last about 24 h, but no field says so).
    """

    def timed_out() -> GenerationTimeout:
        return GenerationTimeout(
            f"The deployment did not answer within {clock.timeout:g} s; allow more time "
            "(--timeout / timeout=).",
            status="running",
        )

    progress("running", clock.elapsed())
    response = yield from send(
        Call("POST", remote.deployment_url, remote.headers(), inputs.body(), clock.remaining()),
        policy=policy,
        clock=clock,
        what="generating",
        on_timeout=timed_out,
    )
    data = _json_object(response, "The response")
    items = data.get("data")
    if not isinstance(items, list):
        raise RemoteError(
            f"The response has no 'data' list: {response.text[:200]!r}",
            status_code=response.status_code,
            code="invalid_response",
        )
    results: list[ImageResult] = []
    payloads: list[bytes | None] = []
    for item in items:
        item = item if isinstance(item, dict) else {}
        payload = None
        if item.get("b64_json"):
            try:
                payload = base64.b64decode(item["b64_json"], validate=True)
            except (binascii.Error, ValueError) as exc:
                raise RemoteError(
                    f"An image's b64_json is not valid base64: {exc}",
                    status_code=response.status_code,
                    code="invalid_response",
                ) from exc
        payloads.append(payload)
        results.append(
            ImageResult(
                url=item.get("url"),
                revised_prompt=item.get("revised_prompt"),
                error=item.get("error"),
            )
        )
    created = data.get("created")
    operation = Operation(
        id=str(uuid.uuid4()),
        created=created,
        expires=data.get("expires"),
        status="succeeded",
        result=OperationResult(created=created, data=results),
    )
    progress("succeeded", clock.elapsed())
    return Generated(operation, payloads)


def download_flow(
    generated: Generated,
    expected_size: str | None,
    policy: RetryPolicy,
    clock: Clock,
    progress: Progress,
) -> Flow[list[Checked | None]]:
    """Fetch (or take inline) and check every image; None for an image the server withheld."""
    operation = generated.operation
    items = operation.result.data if operation.result else []
    checked: list[Checked | None] = []
    for index, item in enumerate(items):
        what = f"Image {index} of operation {operation.id}"
        payload, media_type = generated.payloads[index], None
        if payload is None:
            if item.url is None:
                checked.append(None)  # e.g. filtered: its error stays in the item
                continue
            progress("downloading", clock.elapsed())

            def timed_out(what: str = what) -> GenerationTimeout:
                return GenerationTimeout(
                    f"{what} was not downloaded within the {clock.timeout:g} s timeout.",
                    operation_id=operation.id,
                    status="downloading",
                )

            try:
                response = yield from send(
                    Call("GET", item.url, {}, None, DOWNLOAD_TIMEOUT_S, follow_redirects=True),
                    policy=policy,
                    clock=clock,
                    what=f"downloading {what.lower()}",
                    on_timeout=timed_out,
                )
            except RemoteError as exc:
                raise DownloadError(f"{what} could not be downloaded: {exc}") from exc
            payload, media_type = response.content, response.headers.get("content-type")
        checked.append(
            check_image(payload, media_type=media_type, expected_size=expected_size, what=what)
        )
    return checked


def attach_files(operation: Operation, paths: list[Path | None]) -> None:
    """Record where each image was saved; an inline (b64) image's url becomes its file URI."""
    assert operation.result is not None
    for item, path in zip(operation.result.data, paths, strict=True):
        if path is not None:
            item.path = str(path)
            if item.url is None:
                item.url = path.as_uri()


def remote_flow(
    remote: Remote,
    inputs: Inputs,
    *,
    out: Path | None,
    default_out: Path,
    policy: RetryPolicy,
    clock: Clock,
    progress: Progress,
) -> Flow[Operation]:
    """Generate, then (with `out`, or when images came inline) download, check and save."""
    step = operation_flow if remote.uses_operations else deployments_flow
    generated = yield from step(remote, inputs, policy, clock, progress)
    operation = generated.operation
    if out is None and all(payload is None for payload in generated.payloads):
        return operation
    checked = yield from download_flow(generated, inputs.expected_size, policy, clock, progress)
    assert operation.id is not None
    attach_files(operation, save_all(out or default_out, operation.id, checked))
    return operation
