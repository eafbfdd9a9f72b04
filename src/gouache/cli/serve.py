"""`gouache serve`: the API and its workers in one process, over SQLite and a local folder."""

from __future__ import annotations

import argparse
import ipaddress
import sys
from pathlib import Path

from gouache.errors import ConfigError
from gouache.settings import Settings, configure_logging, load_settings


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "serve",
        help="run the image service",
        description="Run the Azure OpenAI- and OpenAI-compatible image service.",
    )
    parser.add_argument("--host", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to bind (default 8000)")
    parser.add_argument("--data-dir", help="database, images and link secret (default .gouache)")
    parser.add_argument(
        "--config", type=Path, help="TOML config file with [server] and [deployments]"
    )
    parser.add_argument(
        "--engine",
        help="engine for the default deployments when the config defines none (default builtin)",
    )
    parser.add_argument(
        "--insecure-no-auth",
        action="store_true",
        default=None,
        help="allow a non-loopback address without API keys: anyone who reaches it can generate",
    )
    parser.add_argument(
        "--ssl-certfile", help="PEM certificate to serve HTTPS directly (see docs/security.md)"
    )
    parser.add_argument("--ssl-keyfile", help="PEM private key for --ssl-certfile")
    parser.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    parser.add_argument(
        "--storage", help="images: a folder, s3://, az:// or gs:// URL (default DATA_DIR/images)"
    )
    parser.add_argument(
        "--database",
        help="sqlite:///file.db or postgresql://user:password@host:5432/name "
        "(default DATA_DIR/gouache.db)",
    )
    parser.add_argument(
        "--no-workers",
        action="store_true",
        default=None,
        help="API-only node: `gouache worker` processes on the same database run the operations",
    )
    return parser


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_tls(settings: Settings) -> None:
    """Bad TLS files stop the server with their name at start, not with a traceback later."""
    if settings.ssl_keyfile and not settings.ssl_certfile:
        raise ConfigError("ssl_keyfile is set without ssl_certfile; set both, or neither")
    if not settings.ssl_certfile:
        return
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        # an empty password instead of a prompt on the terminal: encrypted keys fail here, clearly
        context.load_cert_chain(
            settings.ssl_certfile, settings.ssl_keyfile or None, password=lambda: b""
        )
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"cannot use ssl_certfile {settings.ssl_certfile!r}"
            + (f" with ssl_keyfile {settings.ssl_keyfile!r}" if settings.ssl_keyfile else "")
            + f": {exc}. Give a PEM certificate and its unencrypted private key."
        ) from exc


def check_exposure(settings: Settings) -> None:
    if settings.api_keys or settings.insecure_no_auth or is_loopback(settings.host):
        return
    raise ConfigError(
        f"refusing to listen on {settings.host} without API keys: anyone who can reach it could "
        "generate images. Set keys (GOUACHE_API_KEYS=key1,key2 or api_keys in [server]), bind "
        "127.0.0.1, or pass --insecure-no-auth if you really mean it."
    )


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from gouache.api import create_app
    from gouache.api.connections import guarded
    from gouache.config import load_config
    from gouache.jobs.datadir import lock_data_dir, unlock_data_dir
    from gouache.storage import check_link_secret, check_storage

    try:
        config = load_config(args.config)
        settings = load_settings(
            config.server,
            {
                "host": args.host,
                "port": args.port,
                "ssl_certfile": args.ssl_certfile,
                "ssl_keyfile": args.ssl_keyfile,
                "data_dir": args.data_dir,
                "insecure_no_auth": args.insecure_no_auth,
                "log_level": args.log_level,
                "storage": args.storage,
                "database": args.database,
                "no_workers": args.no_workers,
            },
        )
        check_storage(settings.storage, settings.storage_endpoint, settings.links)
        check_link_secret(settings.link_secret)
        deployments = config.deployments_on(args.engine)
        check_tls(settings)
        check_exposure(settings)
        if settings.database:
            from gouache.jobs.database import parse_url

            parse_url(settings.database)  # a bad URL stops here, before anything loads
        if not settings.database and not settings.no_workers:
            # one machine: one server per data dir (fails fast, before any engine loads)
            lock_data_dir(settings.data_dir)
    except ConfigError as exc:
        print(f"gouache serve: {exc.message}", file=sys.stderr)
        return 2

    configure_logging(settings.log_level)
    fatal: list[str] = []
    server: uvicorn.Server | None = None

    def on_fatal(message: str) -> None:
        fatal.append(message)
        if server is not None:
            server.should_exit = True

    app = create_app(settings, deployments, on_fatal=on_fatal)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
            access_log=settings.log_level == "debug",
            timeout_graceful_shutdown=5,
            http=guarded(settings.header_timeout_s, settings.max_connections),
            ssl_certfile=settings.ssl_certfile or None,
            ssl_keyfile=settings.ssl_keyfile or None,
        )
    )
    auth = "API keys required" if settings.api_keys else "no API keys (loopback only)"
    scheme = "https" if settings.ssl_certfile else "http"
    print(
        f"gouache serving {', '.join(deployments)} on {scheme}://{settings.host}:{settings.port} "
        f"(data: {settings.data_dir}; {auth})",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.run()
    finally:
        unlock_data_dir(settings.data_dir)
    if fatal:
        print(f"gouache serve: {fatal[0]}", file=sys.stderr)
        return 1
    return 0 if server.started else 1
