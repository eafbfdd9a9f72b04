"""Every server setting, declared once: name, default, type, environment variable, help.

Settings are read once at start (`load_settings`) from defaults, then the config file's `[server]`
table, then environment variables, then command-line flags, and passed down explicitly. Nothing else
in gouache reads the environment. docs/configuration.md is generated from this table
(`python -m gouache.settings > docs/configuration-table.md`) and a test keeps the two in step.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from gouache.errors import ConfigError
from gouache.tenants import ApiKey, parse_api_keys

ApiKeys = tuple[ApiKey, ...]


def _field(default: Any, env: str, help: str) -> Any:
    return field(default=default, metadata={"env": env, "help": help})


@dataclass(frozen=True)
class Settings:
    host: str = _field("127.0.0.1", "GOUACHE_HOST", "Address to bind.")
    port: int = _field(8000, "GOUACHE_PORT", "Port to bind.")
    data_dir: Path = _field(
        Path(".gouache"), "GOUACHE_DATA_DIR", "Folder for the database, images and link secret."
    )
    database: str = _field(
        "",
        "GOUACHE_DATABASE",
        "Database URL: sqlite:///path/to/file.db or postgresql://user:password@host:5432/name. "
        "Empty: the SQLite file gouache.db in the data dir.",
    )
    public_url: str = _field(
        "",
        "GOUACHE_PUBLIC_URL",
        "Base URL clients reach this server at (for operation-location and image links). "
        "Empty: taken from each request's Host header.",
    )
    api_keys: ApiKeys = _field(
        (),
        "GOUACHE_API_KEYS",
        "API keys, each a tenant that sees only its own operations. Comma-separated keys (each "
        "named `key-` + the first 8 hex digits of its SHA-256), or in the config file a table "
        '`name = "key"` or `name = "sha256:<hex>"`. Empty: no auth, loopback only.',
    )
    insecure_no_auth: bool = _field(
        False,
        "GOUACHE_INSECURE_NO_AUTH",
        "Allow binding a non-loopback address with no API keys (anyone can generate).",
    )
    # -- HTTP hardening: browsers, slow clients, TLS (see docs/security.md) --
    allowed_hosts: tuple[str, ...] = _field(
        (),
        "GOUACHE_ALLOWED_HOSTS",
        "Comma-separated host names clients may use in the Host header, besides the loopback "
        "names, IP addresses, the bound address and public_url's host. `*.example.com` allows "
        "its subdomains; `*` turns the check off.",
    )
    cors_origins: tuple[str, ...] = _field(
        (),
        "GOUACHE_CORS_ORIGINS",
        "Comma-separated origins (`https://app.example.com`) whose web pages may call the API "
        "from a browser. Empty: no cross-origin access.",
    )
    header_timeout_s: float = _field(
        10.0,
        "GOUACHE_HEADER_TIMEOUT_S",
        "Seconds a connection may take to send a request's headers (counted again for each "
        "request on a kept-alive connection); then it is closed.",
    )
    body_timeout_s: float = _field(
        30.0,
        "GOUACHE_BODY_TIMEOUT_S",
        "Seconds a request may take to send its whole body; then it gets 408 and the "
        "connection is closed.",
    )
    max_connections: int = _field(
        512,
        "GOUACHE_MAX_CONNECTIONS",
        "Most connections open at once; one more is answered 503 and closed at once.",
    )
    ssl_certfile: str = _field(
        "",
        "GOUACHE_SSL_CERTFILE",
        "PEM certificate (chain) to serve HTTPS directly; empty: plain HTTP (put a TLS proxy in "
        "front).",
    )
    ssl_keyfile: str = _field(
        "", "GOUACHE_SSL_KEYFILE", "PEM private key for ssl_certfile, if not in the same file."
    )

    operation_ttl_s: int = _field(
        86400, "GOUACHE_OPERATION_TTL_S", "Seconds an operation and its images live (Azure: 24 h)."
    )
    link_ttl_s: int = _field(
        0,
        "GOUACHE_LINK_TTL_S",
        "Seconds an image link stays valid; 0 means until the operation expires.",
    )
    queue_max: int = _field(
        64, "GOUACHE_QUEUE_MAX", "Most unfinished operations accepted; beyond it, 429."
    )
    retry_after_s: int = _field(
        1, "GOUACHE_RETRY_AFTER_S", "retry-after sent with unfinished operations and on 429."
    )
    max_body_bytes: int = _field(
        64 * 1024, "GOUACHE_MAX_BODY_BYTES", "Largest request body accepted."
    )
    max_upload_bytes: int = _field(
        64 * 1024 * 1024,
        "GOUACHE_MAX_UPLOAD_BYTES",
        "Largest body of an image edit or variation (multipart form or JSON with base64 images). "
        "Uploaded files are spooled to disk while parsing, not held in memory.",
    )
    image_url_hosts: tuple[str, ...] = _field(
        (),
        "GOUACHE_IMAGE_URL_HOSTS",
        "Comma-separated host names an edit's `image_url` may point to (https only; "
        "`*.example.com` allows subdomains); gouache then fetches the image itself. Empty: only "
        "base64 data URLs are taken, so the server never fetches a URL a client gives it.",
    )
    max_user_length: int = _field(
        256, "GOUACHE_MAX_USER_LENGTH", "Longest `user` (end-user id) accepted."
    )
    sync_timeout_s: float = _field(
        600.0,
        "GOUACHE_SYNC_TIMEOUT_S",
        "How long a synchronous generation route waits for its images before answering 504.",
    )
    sweep_interval_s: float = _field(
        60.0, "GOUACHE_SWEEP_INTERVAL_S", "How often expired operations and images are removed."
    )
    deleted_retention_s: int = _field(
        30 * 86400,
        "GOUACHE_DELETED_RETENTION_S",
        "How long the record of a deleted or expired operation (user, counts) is kept for "
        "`gouache usage`; images are gone at once.",
    )
    # -- jobs: faults --
    store_busy_timeout_s: float = _field(
        5.0,
        "GOUACHE_STORE_BUSY_TIMEOUT_S",
        "How long one database call waits for a lock held by another process before the request "
        "gets 503 with retry-after (and a worker backs off and tries again).",
    )
    # -- jobs: a cluster of nodes (see docs/deploy.md) --
    no_workers: bool = _field(
        False,
        "GOUACHE_NO_WORKERS",
        "Run an API-only node: accept, poll, serve links, but run no engine; `gouache worker` "
        "processes sharing its `database` and `storage` run the operations.",
    )
    lease_s: float = _field(
        30.0,
        "GOUACHE_LEASE_S",
        "How long a worker's claim on an operation lasts without a heartbeat (renewed every third "
        "of it). When a worker dies, its operations are claimed again this long after its last "
        "heartbeat (at once when it ran on the same machine).",
    )
    max_attempts: int = _field(
        3,
        "GOUACHE_MAX_ATTEMPTS",
        "How many times an operation is claimed (after lapsed leases or storage faults) before it "
        "fails with an error saying it was interrupted.",
    )
    log_level: str = _field("info", "GOUACHE_LOG_LEVEL", "Log level: debug, info, warning.")
    # -- image storage ----------------------------------------------------------------------
    storage: str = _field(
        "",
        "GOUACHE_STORAGE",
        "Where images are kept: a folder path, `s3://bucket/prefix`, `az://container/prefix` "
        "(Azure Blob) or `gs://bucket/prefix`. Empty: the `images` folder in `data_dir`. "
        "Object-store credentials come from each cloud's usual environment variables "
        "(`AWS_*`, `AZURE_STORAGE_*`, `GOOGLE_*`); see docs/deploy.md.",
    )
    storage_endpoint: str = _field(
        "",
        "GOUACHE_STORAGE_ENDPOINT",
        "Endpoint URL for an S3-compatible store (MinIO, Ceph, R2, ...) or a non-default Azure "
        "Blob endpoint; `http://` is allowed. Empty: the cloud's own endpoint.",
    )
    link_secret: str = _field(
        "",
        "GOUACHE_LINK_SECRET",
        "The secret image links are signed with, at least 32 characters (`openssl rand -hex 32`). "
        "Give every API node of a cluster the same one. Empty: a random secret kept in the data "
        "dir's `link-secret.key`, made on first start. Changing it revokes every link.",
    )
    links: str = _field(
        "stream",
        "GOUACHE_LINKS",
        "How image links answer once their signature checks out: `stream` sends the bytes "
        "through this server; `redirect` answers 302 to a short-lived presigned storage URL "
        "(object storage only).",
    )

    @classmethod
    def declared(cls) -> list[tuple[str, Any, str, str, str]]:
        """(name, default, type, env var, help) for every setting."""
        rows = []
        for f in fields(cls):
            kind = f.type if isinstance(f.type, str) else f.type.__name__
            rows.append((f.name, f.default, kind, f.metadata["env"], f.metadata["help"]))
        return rows


def _coerce(name: str, kind: str, value: Any) -> Any:
    try:
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
        if kind == "bool":
            if isinstance(value, bool):
                return value
            lowered = str(value).strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(value)
        if kind == "ApiKeys":
            return parse_api_keys(value)
        if kind == "Path":
            return Path(value).expanduser()
        if kind == "tuple[str, ...]":
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(item.strip() for item in items if str(item).strip())
        return str(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"setting {name!r}: cannot read {value!r} as {kind}") from exc


def load_settings(
    file_values: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Merge defaults < config file < environment < explicit overrides (command-line flags)."""
    environ = os.environ if environ is None else environ
    declared = {name: (kind, env) for name, _, kind, env, _ in Settings.declared()}
    values: dict[str, Any] = {}
    for name, value in (file_values or {}).items():
        if name not in declared:
            raise ConfigError(
                f"unknown setting {name!r} in [server]; known: {', '.join(sorted(declared))}"
            )
        values[name] = _coerce(name, declared[name][0], value)
    for name, (kind, env) in declared.items():
        if env in environ:
            values[name] = _coerce(name, kind, environ[env])
    for name, value in (overrides or {}).items():
        if value is not None:
            values[name] = _coerce(name, declared[name][0], value)
    return Settings(**values)


def configure_logging(level: str) -> None:
    """The log format of the long-running commands (`serve`, `worker`), at the `log_level`."""
    import logging

    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def settings_markdown() -> str:
    lines = [
        "| setting | environment variable | default | type | meaning |",
        "|---|---|---|---|---|",
    ]
    for name, default, kind, env, help_text in Settings.declared():
        shown = ",".join(default) if isinstance(default, tuple) else default
        lines.append(f"| `{name}` | `{env}` | `{shown}` | {kind} | {help_text} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(settings_markdown(), end="")
