"""Signed, expiring image links, in the spirit of a storage SAS URL.

A link is `/images/{operation}/{index}.{ext}?se={expiry}&sig={hmac}`: the HMAC-SHA256, under a
server secret (the `link_secret` setting, or one kept in the data dir), covers the path and the
expiry, so a link cannot be redirected to another image or extended, and a restart keeps old links
valid until they expire.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
import stat
from functools import lru_cache
from pathlib import Path

from gouache.errors import ConfigError

SECRET_FILE = "link-secret.key"

log = logging.getLogger("gouache.storage")


MIN_SECRET_CHARS = 32


def link_secret(configured: str, data_dir: Path) -> bytes:
    """The operator's `link_secret` where one is set (the way to give every API node of a
    cluster the same secret without copying files), else the data dir's own."""
    if not configured:
        return load_or_create_secret(data_dir)
    check_link_secret(configured)
    return configured.encode()


def check_link_secret(configured: str) -> None:
    """A short secret can be guessed, and every link with it: refuse it at start."""
    if configured and len(configured) < MIN_SECRET_CHARS:
        raise ConfigError(
            f"setting 'link_secret' has {len(configured)} characters; it needs at least "
            f"{MIN_SECRET_CHARS} (for example the output of `openssl rand -hex 32`)"
        )


def load_or_create_secret(data_dir: Path) -> bytes:
    """The secret is written once with owner-only permissions; replacing it revokes every link."""
    path = data_dir / SECRET_FILE
    try:
        secret = path.read_bytes()
        if len(secret) >= 32:
            _warn_if_exposed(path)
            return secret
    except FileNotFoundError:
        pass
    secret = secrets.token_bytes(32)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    # O_CREAT's mode only applies to a new file: a stale temp file keeps its old mode otherwise
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(secret)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return secret


def _warn_if_exposed(path: Path) -> None:
    """Anyone who can read the secret can sign links to every image: say so, but keep serving
    (the operator may share the data dir on purpose, and refusing would break running links)."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning(
            "the link secret %s is readable by others (mode %03o): anyone who can read it can "
            "sign links to every image. Run `chmod 600` on it.",
            path.name,
            mode,
        )


class LinkSigner:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        # Polls re-sign the same (path, expiry) pairs over and over; remember recent ones.
        self.signature = lru_cache(maxsize=8192)(self._signature)

    def _signature(self, path: str, expires: int) -> str:
        mac = hmac.new(self._secret, f"{path}\n{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    def query(self, path: str, expires: int) -> str:
        return f"se={expires}&sig={self.signature(path, expires)}"

    def verify(self, path: str, expires: int, signature: str) -> bool:
        return hmac.compare_digest(self.signature(path, expires), signature)
