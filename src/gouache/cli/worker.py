"""`gouache worker`: a process that runs operations for the API nodes sharing its database.

It loads the engines of the deployments it hosts (all of the config's by default), claims their
operations from the shared database under leases, writes images to the shared storage and the
results to the database. It has no HTTP listener, except an optional port for health and metrics.
Run one per GPU, on as many machines as you like.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from gouache.errors import ConfigError, GouacheError
from gouache.settings import configure_logging, load_settings


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "worker",
        help="run operations for API nodes that share a database (no HTTP API)",
        description=(
            "Claim and run the operations of some deployments from a shared database. API nodes "
            "(`gouache serve --no-workers`) accept the requests; see docs/deploy.md."
        ),
    )
    parser.add_argument(
        "--database", help="postgresql://user:password@host:5432/name or sqlite:///file.db"
    )
    parser.add_argument("--storage", help="images: a folder, s3://, az:// or gs:// URL")
    parser.add_argument("--config", type=Path, help="TOML config file with the deployments")
    parser.add_argument(
        "--deployments", help="comma-separated deployments this worker runs (default: all)"
    )
    parser.add_argument("--engine", help="engine for the default deployments (default builtin)")
    parser.add_argument(
        "--metrics-port", type=int, help="serve /healthz, /readyz and /metrics on this port"
    )
    parser.add_argument("--metrics-host", default="127.0.0.1", help="address for --metrics-port")
    parser.add_argument("--data-dir", help="for the default SQLite database and image folder")
    parser.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    return parser


def choose(deployments: dict[str, Any], wanted: str | None) -> dict[str, Any]:
    """The deployments named in `--deployments`, or all; an unknown name is a clear error."""
    if not wanted:
        return deployments
    names = [name.strip() for name in wanted.split(",") if name.strip()]
    unknown = [name for name in names if name not in deployments]
    if unknown:
        raise ConfigError(
            f"--deployments names {', '.join(unknown)}, which the config does not define; it "
            f"defines {', '.join(deployments) or 'none'}"
        )
    return {name: deployments[name] for name in names}


def _health_server(host: str, port: int, service: Any) -> ThreadingHTTPServer:
    from gouache.metrics import CONTENT_TYPE

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server naming
            if self.path == "/metrics":
                self._send(200, service.metrics.render(), CONTENT_TYPE)
            elif self.path == "/healthz":
                self._send(200, b'{"status":"ok"}', "application/json")
            elif self.path == "/readyz":
                ready = service.ready and not service.faults()
                body = b'{"status":"ready"}' if ready else b'{"status":"not ready"}'
                self._send(200 if ready else 503, body, "application/json")
            else:
                self._send(404, b"not found", "text/plain")

        def _send(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="gouache-health", daemon=True).start()
    return server


def run(args: argparse.Namespace) -> int:
    from gouache.config import load_config
    from gouache.jobs.database import default_url, parse_url
    from gouache.jobs.service import OperationService
    from gouache.metrics import Metrics
    from gouache.storage import check_storage

    try:
        config = load_config(args.config)
        settings = load_settings(
            config.server,
            {
                "database": args.database,
                "storage": args.storage,
                "data_dir": args.data_dir,
                "log_level": args.log_level,
            },
        )
        if not settings.database:  # the data dir's file, shared with a `gouache serve` there
            settings = load_settings(
                config.server,
                {
                    "database": default_url(settings.data_dir),
                    "storage": args.storage,
                    "data_dir": args.data_dir,
                    "log_level": args.log_level,
                },
            )
        parse_url(settings.database)
        check_storage(settings.storage, settings.storage_endpoint, settings.links)
        deployments = config.deployments_on(args.engine)
        hosted = choose(deployments, args.deployments)
    except ConfigError as exc:
        print(f"gouache worker: {exc.message}", file=sys.stderr)
        return 2

    configure_logging(settings.log_level)
    stop = threading.Event()
    fatal: list[str] = []

    def on_fatal(message: str) -> None:
        fatal.append(message)
        stop.set()

    try:
        service = OperationService(
            settings,
            deployments,
            Metrics(),
            on_fatal=on_fatal,
            workers=True,
            worker_deployments=hosted,
        )
        service.start()
    except GouacheError as exc:
        print(f"gouache worker: {exc.message}", file=sys.stderr)
        return 1
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    health = None
    if args.metrics_port:
        health = _health_server(args.metrics_host, args.metrics_port, service)
    shown = parse_url(settings.database).render_as_string(hide_password=True)
    print(f"gouache worker running {', '.join(hosted)} on {shown}", file=sys.stderr, flush=True)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        if health is not None:
            health.shutdown()
        service.stop()
    if fatal:
        print(f"gouache worker: {fatal[0]}", file=sys.stderr)
        return 1
    return 0
