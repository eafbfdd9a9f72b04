"""API keys as tenants: each configured key has a name, and the name is the tenant.

Keys come from `[server] api_keys` in the config file, either as a table of names

    [server.api_keys]
    reporting = "k-9f2c..."                  # the key itself
    marketing = "sha256:5e884898da28..."     # or the SHA-256 of the key, hex
    design = ["k-old...", "k-new..."]        # several keys of one tenant, to rotate them

or as a plain list (the config file or `GOUACHE_API_KEYS=k1,k2`), where each key is named
`key-` plus the first 8 hex digits of its SHA-256, so a name stays the same when the list is
reordered and never reveals the key. Operations belong to the name, so renaming a key hides the
operations it created before; that is the price of not storing keys.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gouache.errors import ConfigError

NO_KEYS_TENANT = ""
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
_DIGEST = re.compile(r"^sha256:([0-9a-fA-F]{64})$")


@dataclass(frozen=True)
class ApiKey:
    """A key's name and the SHA-256 digest of the key (the key itself is never kept)."""

    name: str
    digest: bytes

    def __str__(self) -> str:  # the settings docs and logs show names, never secrets
        return self.name


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def hashed_name(secret: str) -> str:
    """The name of a key given without one: stable under reordering, says nothing of the key."""
    return "key-" + hashlib.sha256(secret.encode()).hexdigest()[:8]


def _named(name: str, value: Any) -> ApiKey:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(
            f"api_keys: key name {name!r} is not allowed; use 1-64 letters, digits, '.', '_', "
            "'-' or '@', starting with a letter or digit"
        )
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            f"api_keys.{name}: expected the key or 'sha256:<64 hex digits>', got {value!r}"
        )
    value = value.strip()
    match = _DIGEST.match(value)
    if match:
        return ApiKey(name, bytes.fromhex(match.group(1)))
    if value.lower().startswith("sha256:"):
        raise ConfigError(
            f"api_keys.{name}: a hashed key is 'sha256:' and 64 hex digits; got {len(value) - 7} "
            "characters after 'sha256:'"
        )
    return ApiKey(name, digest(value))


def parse_api_keys(value: Any) -> tuple[ApiKey, ...]:
    """Keys from a table (name -> key or sha256), a list, or a comma-separated string."""
    if isinstance(value, tuple) and all(isinstance(item, ApiKey) for item in value):
        keys = value
    elif isinstance(value, Mapping):
        keys = tuple(
            _named(name, secret)
            for name, given in value.items()
            for secret in (given if isinstance(given, list | tuple) else [given])
        )
    else:
        items = value.split(",") if isinstance(value, str) else list(value)
        secrets = [str(item).strip() for item in items if str(item).strip()]
        keys = tuple(ApiKey(hashed_name(secret), digest(secret)) for secret in secrets)
    if len({key.digest for key in keys}) != len(keys):
        raise ConfigError(
            "api_keys: the same key is given twice; give each tenant its own key "
            f"(names: {', '.join(key.name for key in keys)})"
        )
    return keys
