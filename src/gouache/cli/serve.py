"""`gouache serve`: the API and its workers in one process, over SQLite and a local folder."""

from __future__ import annotations

import argparse
import fcntl
import ipaddress
import os
import sys
from pathlib import Path
from typing import IO

from gouache.errors import ConfigError
from gouache.settings import Settings, load_settings


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
    parser.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    return parser


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(settings: Settings) -> None:
    if settings.api_keys or settings.insecure_no_auth or is_loopback(settings.host):
        return
    raise ConfigError(
        f"refusing to listen on {settings.host} without API keys: anyone who can reach it could "
        "generate images. Set keys (GOUACHE_API_KEYS=key1,key2 or api_keys in [server]), bind "
        "127.0.0.1, or pass --insecure-no-auth if you really mean it."
    )


def lock_data_dir(data_dir: Path) -> IO[str]:
    """One server per data dir: at start-up it re-queues whatever was `running`, which is only
    safe if no other live process owns those operations."""
    data_dir.mkdir(parents=True, exist_ok=True)
    handle = open(data_dir / "serve.lock", "a+")  # noqa: SIM115 - held for the process lifetime
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        raise ConfigError(
            f"another gouache serve is already using the data dir {data_dir}"
        ) from exc
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def run(args: argparse.Namespace) -> int:
    import logging  # imported here, not at the top: `gouache generate` loads this module too

    import uvicorn

    from gouache.api import create_app
    from gouache.config import default_deployments, load_config

    try:
        config = load_config(args.config)
        settings = load_settings(
            config.server,
            {
                "host": args.host,
                "port": args.port,
                "data_dir": args.data_dir,
                "insecure_no_auth": args.insecure_no_auth,
                "log_level": args.log_level,
            },
        )
        deployments = config.deployments
        if args.engine:
            if config.custom_deployments:
                raise ConfigError(
                    "--engine applies to the default deployments; the config defines its own"
                )
            deployments = default_deployments(args.engine)
        check_exposure(settings)
        lock = lock_data_dir(settings.data_dir)
    except ConfigError as exc:
        print(f"gouache serve: {exc.message}", file=sys.stderr)
        return 2

    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
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
        )
    )
    auth = "API keys required" if settings.api_keys else "no API keys (loopback only)"
    print(
        f"gouache serving {', '.join(deployments)} on http://{settings.host}:{settings.port} "
        f"(data: {settings.data_dir}; {auth})",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.run()
    finally:
        lock.close()
    if fatal:
        print(f"gouache serve: {fatal[0]}", file=sys.stderr)
        return 1
    return 0 if server.started else 1
