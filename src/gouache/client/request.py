"""The action's inputs, checked before any work, and where the work runs.

Inputs are checked with the service's own `validate_generation`, so `gouache generate` refuses
exactly what a gouache server refuses, in the same words. The rules are those of the deployment
the request goes to, when its name is a model family (`dall-e-2`, `dall-e-3`, `gpt-image-1`):
in-process the one named (`dall-e-2`, the seed action, when none is); remote, the one named, else
the route's default (`dall-e-2` on the operation API, `dall-e-3` on the deployments route). A
remote deployment with any other name has rules this client cannot know, so only what no
deployment accepts is refused here (an empty prompt, `n` below 1, a size that is not WIDTHxHEIGHT);
the server's own refusal comes back as a `RemoteError`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from gouache.errors import InvalidRequest
from gouache.profiles import DALL_E_2, PROFILES, Profile
from gouache.validation import ASYNC_FIELDS, MAX_SEED, end_user, validate_generation

# Azure's DALL-E 2 submit/poll operation API (same list as gouache.api.versions.ASYNC_VERSIONS).
OPERATION_API_VERSIONS = (
    "2023-06-01-preview",
    "2023-07-01-preview",
    "2023-08-01-preview",
    "2023-09-01-preview",
    "2023-10-01-preview",
)
DEFAULT_API_VERSION = "2023-06-01-preview"
DEFAULT_DEPLOYMENT = "dall-e-3"  # used on the deployments route when none is named
OPERATIONS_DEPLOYMENT = DALL_E_2.name  # what a server uses on the operation API when none is named
DEFAULT_OUT = Path("gouache-images")
DEFAULT_TIMEOUT_S = 300.0
DEFAULT_RETRIES = 4
SIZES = DALL_E_2.sizes
MAX_N = DALL_E_2.max_n
PROMPT_MAX = DALL_E_2.prompt_max
USER_MAX = 256

ENV_ENDPOINT = "AZURE_OPENAI_ENDPOINT"
ENV_API_KEY = "AZURE_OPENAI_API_KEY"
ENV_API_VERSION = "OPENAI_API_VERSION"


@dataclass(frozen=True)
class Inputs:
    """The action's inputs as sent; `size` None means the deployment's default, and
    `resolved_size` is the size actually drawn (the default, or what `auto` stands for)."""

    prompt: str
    n: int = 1
    size: str | None = None
    user: str | None = None
    seed: int | None = None
    resolved_size: str = DALL_E_2.default_size

    @property
    def expected_size(self) -> str | None:
        """The dimensions a remote image must have: None when the server picks them."""
        return None if self.size in (None, "auto") else self.size

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"prompt": self.prompt, "n": self.n}
        for name in ("size", "user", "seed"):  # seed: gouache's extension, sent only when set
            value = getattr(self, name)
            if value is not None:
                body[name] = value
        return body


def local_profile(deployment: str | None) -> Profile:
    """The rules of the in-process deployment named (the seed action's, dall-e-2, by default)."""
    name = deployment or DALL_E_2.name
    if name not in PROFILES:
        raise InvalidRequest(
            f"In-process generation offers the deployments {', '.join(PROFILES)}; received "
            f"{name!r}. Name one of them, or call the server that has {name!r} with --endpoint.",
            param="deployment",
            code="DeploymentNotFound",
        )
    return PROFILES[name]


def with_deployment_hint(
    error: InvalidRequest, size: Any, n: Any, profile: Profile
) -> InvalidRequest:
    """A size or `n` refused before any work, with the deployments that do take it: the fix is one
    flag. Other refusals come back as they are."""
    if error.param == "size":
        what = f"{size} is offered by"
        offered_by = [name for name, other in PROFILES.items() if size in other.sizes]
    elif error.param == "n" and isinstance(n, int) and not isinstance(n, bool) and n > 1:
        what = f"n={n} is allowed by"
        offered_by = [name for name, other in PROFILES.items() if n <= other.max_n]
    else:
        return error
    offered_by = [name for name in offered_by if name != profile.name]
    if not offered_by:
        return error
    hint = " or ".join(f"--deployment {name}" for name in offered_by)
    return InvalidRequest(
        f"{error.message} {what} deployment {offered_by[0]!r}: use {hint}.",
        param=error.param,
        code=error.code,
    )


def check_inputs(
    prompt: Any,
    n: Any = 1,
    size: Any = None,
    user: Any = None,
    seed: Any = None,
    profile: Profile = DALL_E_2,
) -> Inputs:
    """Raise `InvalidRequest` (the service's message) for anything `profile`'s deployment, by
    default the seed action's dall-e-2, does not allow."""
    body = {"prompt": prompt, "n": n, "size": size, "user": user, "seed": seed}
    params = validate_generation(
        body,
        profile,
        deployment=profile.name,
        allowed_fields=ASYNC_FIELDS,
        surface="the Generate images action",
        max_user_length=USER_MAX,
    )
    return Inputs(
        prompt=params.prompt,
        n=params.n,
        size=size,
        user=params.user,
        seed=params.seed,
        resolved_size=params.size,
    )


SIZE_PATTERN = re.compile(r"[1-9][0-9]{0,4}x[1-9][0-9]{0,4}")


def check_open_inputs(
    prompt: Any, n: Any = 1, size: Any = None, user: Any = None, seed: Any = None
) -> Inputs:
    """What no deployment accepts, for a remote deployment whose rules this client cannot know
    (a custom name): everything else is the server's to judge, in its own words."""
    if not isinstance(prompt, str):
        raise InvalidRequest(
            f"'prompt' must be a string; received {type(prompt).__name__}.",
            param="prompt",
            code="invalid_type",
        )
    if not prompt.strip():
        raise InvalidRequest(
            "'prompt' must not be empty: describe the image to generate.", param="prompt"
        )
    if isinstance(n, bool) or not isinstance(n, int):
        raise InvalidRequest(
            f"'n' must be an integer of at least 1; received {n!r}.", param="n", code="invalid_type"
        )
    if n < 1:
        raise InvalidRequest(f"'n' must be at least 1; received {n}.", param="n")
    if size is not None and (
        not isinstance(size, str) or not (size == "auto" or SIZE_PATTERN.fullmatch(size))
    ):
        raise InvalidRequest(
            f"'size' must be WIDTHxHEIGHT in pixels, such as 1792x1024 (or auto); received "
            f"{size!r}.",
            param="size",
        )
    user = end_user({"user": user}, "user", USER_MAX)
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED
    ):
        raise InvalidRequest(
            f"'seed' must be an integer from 0 to {MAX_SEED}; received {seed!r}.", param="seed"
        )
    return Inputs(prompt=prompt, n=n, size=size, user=user, seed=seed, resolved_size=size or "auto")


@dataclass(frozen=True)
class Remote:
    endpoint: str  # scheme://host[:port][/prefix], no trailing slash
    api_key: str | None
    api_version: str
    deployment: str | None

    @property
    def uses_operations(self) -> bool:
        """The DALL-E 2 submit/poll API for 2023-06..10-preview; the deployments route after."""
        return self.api_version in OPERATION_API_VERSIONS

    def headers(self) -> dict[str, str]:
        return {"api-key": self.api_key} if self.api_key else {}

    @property
    def target_deployment(self) -> str:
        """The deployment the request reaches: the one named, else the route's default."""
        if self.deployment:
            return self.deployment
        return OPERATIONS_DEPLOYMENT if self.uses_operations else DEFAULT_DEPLOYMENT

    @property
    def profile(self) -> Profile | None:
        """The model family's rules when the deployment is named after one; None: a custom
        deployment, whose rules only its server knows."""
        return PROFILES.get(self.target_deployment)

    @property
    def submit_url(self) -> str:
        return (
            f"{self.endpoint}/openai/images/generations:submit"
            f"?api-version={quote(self.api_version)}"
        )

    def operation_url(self, operation_id: str) -> str:
        return (
            f"{self.endpoint}/openai/operations/images/{quote(operation_id)}"
            f"?api-version={quote(self.api_version)}"
        )

    @property
    def deployment_url(self) -> str:
        name = quote(self.deployment or DEFAULT_DEPLOYMENT, safe="")
        return (
            f"{self.endpoint}/openai/deployments/{name}/images/generations"
            f"?api-version={quote(self.api_version)}"
        )


def resolve_remote(
    endpoint: str | None,
    api_key: str | None,
    api_version: str | None,
    deployment: str | None,
    *,
    environ: Mapping[str, str] | None = None,
    local: bool = False,
) -> Remote | None:
    """Arguments first, then AZURE_OPENAI_ENDPOINT / AZURE_OPENAI_API_KEY / OPENAI_API_VERSION.
    None (run in-process) when no endpoint is given anywhere, or when `local` is set."""
    if local:
        return None
    environ = os.environ if environ is None else environ
    endpoint = endpoint or environ.get(ENV_ENDPOINT) or None
    if not endpoint:
        return None
    parts = urlsplit(endpoint.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidRequest(
            f"The endpoint must be an http(s) URL such as https://NAME.openai.azure.com; "
            f"received {endpoint!r}.",
            param="endpoint",
            code="invalid_value",
        )
    if parts.query or parts.fragment:
        raise InvalidRequest(
            f"The endpoint is the service's base URL, without a query; received {endpoint!r}.",
            param="endpoint",
            code="invalid_value",
        )
    base = f"{parts.scheme}://{parts.netloc}{parts.path}".rstrip("/")
    if base.endswith("/openai"):  # people paste the full API base; the routes add /openai
        base = base[: -len("/openai")]
    return Remote(
        endpoint=base,
        api_key=api_key or environ.get(ENV_API_KEY) or None,
        api_version=api_version or environ.get(ENV_API_VERSION) or DEFAULT_API_VERSION,
        deployment=deployment or None,
    )


def check_limits(timeout: Any, retries: Any) -> tuple[float, int]:
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise InvalidRequest(
            f"'timeout' must be a number of seconds above 0; received {timeout!r}.",
            param="timeout",
            code="invalid_value",
        )
    if isinstance(retries, bool) or not isinstance(retries, int) or not 1 <= retries <= 20:
        raise InvalidRequest(
            f"'retries' is the most tries of one request, 1 to 20; received {retries!r}.",
            param="retries",
            code="invalid_value",
        )
    return float(timeout), retries
