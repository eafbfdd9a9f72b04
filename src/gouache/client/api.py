"""`generate_images` / `agenerate_images`: the Generate images action as a Python call."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gouache.client.progress import Progress
from gouache.client.request import (
    DEFAULT_OUT,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT_S,
    Inputs,
    Remote,
    check_inputs,
    check_limits,
    check_open_inputs,
    local_profile,
    resolve_remote,
    with_deployment_hint,
)
from gouache.client.results import Operation
from gouache.client.retry import RetryPolicy
from gouache.errors import InvalidRequest

if TYPE_CHECKING:
    from gouache.client.protocol import Flow

# Where the work runs decides what is imported: the in-process path never loads httpx, and a
# remote call never loads the engines (`gouache generate` starts faster either way).


def _silent(_status: str, _elapsed: float) -> None:
    pass


@dataclass(frozen=True)
class Job:
    inputs: Inputs
    remote: Remote | None
    out: Path | None
    timeout: float
    policy: RetryPolicy
    engine: str
    progress: Progress


def prepare(
    prompt: str,
    *,
    n: int = 1,
    size: str | None = None,
    user: str | None = None,
    seed: int | None = None,
    out: str | os.PathLike[str] | None = None,
    endpoint: str | None = None,
    api_key: str | None = None,
    deployment: str | None = None,
    api_version: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    retries: int = DEFAULT_RETRIES,
    engine: str = "builtin",
    local: bool = False,
    progress: Progress | None = None,
    environ: Mapping[str, str] | None = None,
) -> Job:
    """Check everything (raising `InvalidRequest`) before any work or request."""
    remote = resolve_remote(
        endpoint, api_key, api_version, deployment, environ=environ, local=local
    )
    profile = local_profile(deployment) if remote is None else remote.profile
    if profile is None:  # a remote deployment with a name of its own: its server has the rules
        inputs = check_open_inputs(prompt, n, size, user, seed)
    else:
        try:
            inputs = check_inputs(prompt, n, size, user, seed, profile)
        except InvalidRequest as exc:
            raise with_deployment_hint(exc, size, n, profile) from None
    timeout, retries = check_limits(timeout, retries)
    return Job(
        inputs=inputs,
        remote=remote,
        out=Path(out) if out is not None else None,
        timeout=timeout,
        policy=RetryPolicy(attempts=retries),
        engine=engine,
        progress=progress or _silent,
    )


def _flow(job: Job) -> Flow[Operation]:
    from gouache.client.protocol import Clock, remote_flow

    assert job.remote is not None
    return remote_flow(
        job.remote,
        job.inputs,
        out=job.out,
        default_out=DEFAULT_OUT,
        policy=job.policy,
        clock=Clock(job.timeout),
        progress=job.progress,
    )


def run_job(job: Job) -> Operation:
    if job.remote is None:
        from gouache.client.local import run_local

        return run_local(
            job.inputs, engine=job.engine, out=job.out or DEFAULT_OUT, progress=job.progress
        )
    from gouache.client.remote import new_client, run_sync

    with new_client() as client:
        return run_sync(_flow(job), client)


async def arun_job(job: Job) -> Operation:
    if job.remote is None:
        import asyncio

        from gouache.client.local import run_local

        return await asyncio.to_thread(
            run_local,
            job.inputs,
            engine=job.engine,
            out=job.out or DEFAULT_OUT,
            progress=job.progress,
        )
    from gouache.client.remote import new_async_client, run_async

    async with new_async_client() as client:
        return await run_async(_flow(job), client)


_DOC = """Generate images: the seed's Generate images action.

    Inputs (checked before any work; `InvalidRequest` names what is allowed): `prompt` 1..1000
    characters, `n` 1..5, `size` 256x256 | 512x512 | 1024x1024 (None: the service default,
    1024x1024), `user` (end-user id, at most 256 characters), `seed` (gouache extension). Naming
    `deployment` applies that model's rules instead: "dall-e-3" takes 1024x1024, 1792x1024 or
    1024x1792 and n=1; "gpt-image-1" auto, 1024x1024, 1536x1024 or 1024x1536 and n up to 10.
    On the deployments route with no `deployment`, dall-e-3's rules (its default deployment).
    A remote deployment with any other name is checked only for what no deployment accepts (a
    size that is not WIDTHxHEIGHT, n below 1, an empty prompt); the rest is its server's to
    refuse, as a `RemoteError`.

    Where it runs: with no `endpoint` (and no AZURE_OPENAI_ENDPOINT in the environment, or with
    `local=True`) in this process on `engine` ("builtin"), saving the images in `out` (default
    ./gouache-images). With an endpoint, on that server: the DALL-E 2 submit/poll API for
    api-versions 2023-06-01-preview..2023-10-01-preview (the default api-version is
    2023-06-01-preview), else the deployments route (`deployment`, default dall-e-3). `api_key`
    defaults to AZURE_OPENAI_API_KEY, `api_version` to OPENAI_API_VERSION. With `out`, remote images
    are downloaded, checked (image type, decodes, requested size) and saved all-or-nothing.

    `timeout` (seconds) bounds the whole remote call, downloads included; `retries` is the most tries
    of one request (429, 5xx and network errors are retried with jittered backoff, honouring
    retry-after). `progress(status, elapsed_s)` is called as the status changes.

    Returns an `Operation`; raises `InvalidRequest`, `RemoteError`, `GenerationTimeout`,
    `DownloadError` (all `gouache.errors.GouacheError`).
    """


def generate_images(
    prompt: str,
    *,
    n: int = 1,
    size: str | None = None,
    user: str | None = None,
    seed: int | None = None,
    out: str | os.PathLike[str] | None = None,
    endpoint: str | None = None,
    api_key: str | None = None,
    deployment: str | None = None,
    api_version: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    retries: int = DEFAULT_RETRIES,
    engine: str = "builtin",
    local: bool = False,
    progress: Progress | None = None,
) -> Operation:
    # The parameters are exactly prepare()'s: hand them on as they came.
    return run_job(prepare(**locals()))


async def agenerate_images(
    prompt: str,
    *,
    n: int = 1,
    size: str | None = None,
    user: str | None = None,
    seed: int | None = None,
    out: str | os.PathLike[str] | None = None,
    endpoint: str | None = None,
    api_key: str | None = None,
    deployment: str | None = None,
    api_version: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    retries: int = DEFAULT_RETRIES,
    engine: str = "builtin",
    local: bool = False,
    progress: Progress | None = None,
) -> Operation:
    return await arun_job(prepare(**locals()))


generate_images.__doc__ = _DOC
agenerate_images.__doc__ = "The async twin of `generate_images` (httpx.AsyncClient).\n\n    " + _DOC
