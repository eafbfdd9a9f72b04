"""Where a deck's or kit's pictures are made, and what that deployment offers.

The same choices as `gouache generate`: in this process on the built-in engine by default, or a
gouache server / Azure OpenAI with an endpoint (flags first, then AZURE_OPENAI_ENDPOINT,
AZURE_OPENAI_API_KEY, OPENAI_API_VERSION). Decks need wide and tall pictures, which the DALL-E 3
deployments offer, so against an endpoint the deployments route is used unless an api-version
says otherwise.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from gouache.client import DEFAULT_RETRIES, DEFAULT_TIMEOUT_S
from gouache.errors import InvalidRequest
from gouache.profiles import DALL_E_2, DALL_E_3, GPT_IMAGE_1, PROFILES

DEFAULT_DEPLOYMENT = "dall-e-3"
DECK_API_VERSION = "2024-10-21"  # the deployments route: dall-e-3's wide and tall sizes
SAFE_SIZE = "1024x1024"  # offered by every image deployment


@dataclass(frozen=True)
class Target:
    endpoint: str | None = None
    api_key: str | None = None
    deployment: str | None = None
    api_version: str | None = None
    engine: str = "builtin"
    local: bool = False
    timeout: float = DEFAULT_TIMEOUT_S
    retries: int = DEFAULT_RETRIES
    user: str | None = None
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    @classmethod
    def resolve(cls, environ: Mapping[str, str] | None, **where: Any) -> Target:
        """A resolved target from a deck's or kit's keyword arguments; `environ` None reads the
        process environment."""
        return cls(**where, environ=dict(os.environ if environ is None else environ)).resolved()

    def resolved(self) -> Target:
        """Fill the endpoint, key and api-version from the environment, as the client would;
        check the limits here, so a bad one is refused before the first picture, not by each."""
        self._check_limits()
        if self.local:
            return replace(self, endpoint=None)
        endpoint = self.endpoint or self.environ.get("AZURE_OPENAI_ENDPOINT") or None
        if not endpoint:
            return replace(self, endpoint=None)
        return replace(
            self,
            endpoint=endpoint,
            api_key=self.api_key or self.environ.get("AZURE_OPENAI_API_KEY") or None,
            api_version=self.api_version
            or self.environ.get("OPENAI_API_VERSION")
            or DECK_API_VERSION,
        )

    def _check_limits(self) -> None:
        timeout, retries, user = self.timeout, self.retries, self.user
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
            raise InvalidRequest(
                f"'timeout' must be a number of seconds above 0; received {timeout!r}.",
                param="timeout",
            )
        if isinstance(retries, bool) or not isinstance(retries, int) or not 1 <= retries <= 20:
            raise InvalidRequest(
                f"'retries' is the most tries of one request, 1 to 20; received {retries!r}.",
                param="retries",
            )
        if user is not None and len(user) > 256:
            raise InvalidRequest(
                f"'user' is {len(user)} characters; at most 256 are kept. Send a shorter "
                "end-user id (a hash of it works well).",
                param="user",
            )

    @property
    def deployment_name(self) -> str:
        return self.deployment or DEFAULT_DEPLOYMENT

    @property
    def deployment_label(self) -> str:
        """What made the pictures, as the speaker notes say it."""
        if not self.endpoint:
            return f"in-process engine {self.engine!r}"
        return self.deployment_name

    @property
    def profile(self):
        """The deployment's request rules when its name is a model family; else DALL-E 2's
        (1024x1024 works everywhere, and 1000 characters is the strictest prompt limit)."""
        return PROFILES.get(self.deployment_name, DALL_E_2)

    @property
    def sizes(self) -> tuple[str, ...]:
        return tuple(size for size in self.profile.sizes if size != "auto")

    def size_candidates(self, aspect: float) -> list[str]:
        """The sizes to ask for, in order, for a picture of `aspect`: the deployment's nearest
        where its name is a model family. A custom-named deployment's sizes are known only to its
        server, so the wide or tall sizes of each model family that has them are tried in turn
        (a server refuses a size it lacks with a 400 on `size`), then the square every image
        deployment offers."""
        if self.deployment_name in PROFILES:
            families = [self.sizes]
        else:
            families = [_offered(DALL_E_3.sizes), _offered(GPT_IMAGE_1.sizes)]
        candidates = [nearest_size(aspect, sizes) for sizes in families] + [SAFE_SIZE]
        return list(dict.fromkeys(candidates))

    @property
    def prompt_max(self) -> int:
        return self.profile.prompt_max

    @property
    def sends_seed(self) -> bool:
        """Azure OpenAI refuses gouache's `seed` extension: it is left out for azure.com hosts."""
        if not self.endpoint:
            return True
        host = (urlsplit(self.endpoint).hostname or "").lower()
        return not host.endswith(".azure.com")

    def workers(self, asked: int | None) -> int:
        """How many pictures to ask for at once: `asked` (1..16), else 4 against an endpoint
        (it works while this process waits) and 1 in-process (the engine already uses the CPU)."""
        if asked is None:
            return 4 if self.endpoint else 1
        if isinstance(asked, bool) or not isinstance(asked, int) or not 1 <= asked <= 16:
            raise InvalidRequest(
                f"'concurrency' is how many pictures are asked for at once, 1 to 16; received "
                f"{asked!r}.",
                param="concurrency",
            )
        return asked

    def kwargs(self) -> dict:
        """Keyword arguments for `generate_images`, minus prompt, size, seed and out."""
        return {
            "endpoint": self.endpoint,
            "api_key": self.api_key,
            "deployment": self.deployment_name,
            "api_version": self.api_version,
            "timeout": self.timeout,
            "retries": self.retries,
            "engine": self.engine,
            "local": self.endpoint is None,
            "user": self.user,
        }


def _offered(sizes: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(size for size in sizes if size != "auto")


def nearest_size(aspect: float, sizes: tuple[str, ...]) -> str:
    """The offered size whose aspect is nearest (in log ratio) to `aspect`, largest on ties."""

    def distance(size: str) -> tuple[float, int]:
        width, height = (int(part) for part in size.split("x"))
        return (abs(math.log((width / height) / aspect)), -width * height)

    return min(sizes or (SAFE_SIZE,), key=distance)
