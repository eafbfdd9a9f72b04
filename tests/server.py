"""Start a real `gouache serve` subprocess on a free port for end-to-end tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

READY_TIMEOUT_S = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningServer:
    url: str
    process: subprocess.Popen
    data_dir: Path
    log_path: Path
    port: int

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks run, as in a crash or an OOM kill."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)


def launch(
    data_dir: Path,
    *,
    port: int | None = None,
    config: Path | None = None,
    env: dict[str, str] | None = None,
    args: list[str] | tuple[str, ...] = (),
    log_path: Path | None = None,
) -> RunningServer:
    port = port or free_port()
    log_path = log_path or data_dir.parent / f"serve-{port}.log"
    command = [sys.executable, "-m", "gouache.cli.main", "serve", "--port", str(port)]
    command += ["--data-dir", str(data_dir)]
    if config is not None:
        command += ["--config", str(config)]
    command += list(args)
    # hermetic: no GOUACHE_* setting leaks in from the developer's shell
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("GOUACHE_")}
    full_env = {**inherited, "PYTHONUNBUFFERED": "1", **(env or {})}
    handle = open(log_path, "ab")  # noqa: SIM115 - the child owns it
    process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=full_env)
    handle.close()
    return RunningServer(
        url=f"http://127.0.0.1:{port}",
        process=process,
        data_dir=data_dir,
        log_path=log_path,
        port=port,
    )


def wait_ready(server: RunningServer, timeout: float = READY_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"gouache serve exited with {server.process.returncode}:\n{server.log()}"
            )
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.url}/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"gouache serve was not ready within {timeout} s:\n{server.log()}")


def stop(server: RunningServer) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()


@contextlib.contextmanager
def start_server(
    tmp_path: Path,
    *,
    config: str | None = None,
    env: dict[str, str] | None = None,
    args: list[str] | tuple[str, ...] = (),
    data_dir: Path | None = None,
    wait: bool = True,
) -> Iterator[RunningServer]:
    """Run `gouache serve` until the block ends. `config` is TOML text; `args` extra CLI flags."""
    data_dir = data_dir or tmp_path / f"data-{free_port()}"
    config_path = None
    if config is not None:
        config_path = tmp_path / f"config-{free_port()}.toml"
        config_path.write_text(config)
    server = launch(data_dir, config=config_path, env=env, args=args)
    try:
        if wait:
            wait_ready(server)
        yield server
    finally:
        stop(server)


def download_png_sizes(urls: list[str]) -> list[tuple[int, int]]:
    """Fetch each image link as a client would; every one must be a PNG. Returns their sizes."""
    from tests.conftest import png_size

    sizes = []
    for url in urls:
        response = httpx.get(url, timeout=30)
        assert response.status_code == 200, response.text
        sizes.append(png_size(response.content))
    return sizes


@dataclass
class RunningWorker:
    """A `gouache worker` subprocess."""

    process: subprocess.Popen
    log_path: Path
    args: list[str]
    env: dict[str, str]

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks run, its leases are simply no longer renewed."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)


def launch_worker(
    args: list[str] | tuple[str, ...], *, env: dict[str, str] | None = None, log_path: Path
) -> RunningWorker:
    """Start `gouache worker ARGS` with a hermetic environment (no GOUACHE_* from the shell)."""
    command = [sys.executable, "-m", "gouache.cli.main", "worker", *args]
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("GOUACHE_")}
    full_env = {**inherited, "PYTHONUNBUFFERED": "1", **(env or {})}
    handle = open(log_path, "ab")  # noqa: SIM115 - the child owns it
    process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=full_env)
    handle.close()
    return RunningWorker(process, log_path, list(args), dict(env or {}))


def stop_worker(worker: RunningWorker) -> None:
    if worker.process.poll() is None:
        worker.process.send_signal(signal.SIGTERM)
        try:
            worker.process.wait(15)
        except subprocess.TimeoutExpired:
            worker.kill()
