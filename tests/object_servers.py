"""Real object storage servers for tests: Azurite (Azure Blob) and s3rver (S3), from npm.

`.ci/run` installs both into `.ci/node`; a developer can do the same with
`npm install --prefix .ci/node azurite s3rver` (or install them globally). Each server runs on a
free port with its own temporary folder, is polled until it answers, and is stopped afterwards.
Under CI=true a missing binary fails the test instead of skipping it.
"""

from __future__ import annotations

import base64
import contextlib
import email.utils
import hashlib
import hmac
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.server import free_port

ROOT = Path(__file__).resolve().parents[1]
NODE_BIN = ROOT / ".ci" / "node" / "node_modules" / ".bin"
READY_TIMEOUT_S = 60.0

# The emulator's fixed, publicly documented development account (not a secret).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
# s3rver's fixed development credentials.
S3RVER_KEY = "S3RVER"


def find_binary(name: str) -> str | None:
    local = NODE_BIN / name
    if local.is_file():
        return str(local)
    return shutil.which(name)


def require_binary(name: str) -> str:
    """The binary's path; in CI its absence is a failure, elsewhere a skip with the fix."""
    found = find_binary(name)
    if found:
        return found
    message = f"{name} is not installed: run `npm install --prefix .ci/node azurite s3rver`"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI must install it: see .ci/run)")
    pytest.skip(message)


@dataclass
class StorageServer:
    url: str
    port: int
    folder: Path
    process: subprocess.Popen
    log_path: Path
    command: list[str]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def restart(self) -> None:
        """Start it again on the same port and folder: stored objects are still there."""
        self.stop()
        self.process = _spawn(self.command, self.log_path)
        _wait_listening(self)


def _spawn(command: list[str], log_path: Path) -> subprocess.Popen:
    handle = open(log_path, "ab")  # noqa: SIM115 - the child owns it
    try:
        return subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT)
    finally:
        handle.close()


def _wait_listening(server: StorageServer) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.command[0]} exited:\n{server.log()}")
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(server.url, timeout=2)  # any HTTP answer (even 4xx) means it is up
            return
        time.sleep(0.1)
    raise RuntimeError(f"{server.command[0]} did not start:\n{server.log()}")


@contextlib.contextmanager
def _running(command: list[str], port: int, folder: Path, url: str) -> Iterator[StorageServer]:
    log_path = folder.parent / f"{folder.name}.log"
    server = StorageServer(url, port, folder, _spawn(command, log_path), log_path, command)
    try:
        _wait_listening(server)
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def azurite(folder: Path) -> Iterator[StorageServer]:
    """Azurite's blob service. It checks SAS signatures and expiry like Azure does."""
    binary = require_binary("azurite-blob")
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = [
        binary,
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        str(port),
        "--location",
        str(folder),
        "--silent",
        "--skipApiVersionCheck",
        "--disableTelemetry",
    ]
    with _running(command, port, folder, f"http://127.0.0.1:{port}") as server:
        yield server


@contextlib.contextmanager
def s3rver(folder: Path, bucket: str) -> Iterator[StorageServer]:
    """s3rver with one bucket. It checks the expiry of presigned URLs but not their signatures
    (it accepts any well-formed one), so signature tests belong to Azurite."""
    binary = require_binary("s3rver")
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = [
        binary,
        "--directory",
        str(folder),
        "--address",
        "127.0.0.1",
        "--port",
        str(port),
        "--silent",
        "--configure-bucket",
        bucket,
    ]
    with _running(command, port, folder, f"http://127.0.0.1:{port}") as server:
        yield server


def azurite_env(server: StorageServer) -> dict[str, str]:
    """What an operator sets to point obstore (and so gouache) at the emulator."""
    return {"AZURE_STORAGE_USE_EMULATOR": "true", "AZURITE_BLOB_STORAGE_URL": server.url}


def s3rver_env() -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": S3RVER_KEY,
        "AWS_SECRET_ACCESS_KEY": S3RVER_KEY,
        "AWS_REGION": "us-east-1",
    }


def create_container(server: StorageServer, container: str) -> None:
    """Create a blob container with a Shared Key request: obstore works inside a container and
    cannot create one, as an operator would create it once with the Azure tools."""
    headers = {"x-ms-date": email.utils.formatdate(usegmt=True), "x-ms-version": "2021-08-06"}
    canonical_headers = "".join(f"{name}:{value}\n" for name, value in sorted(headers.items()))
    resource = f"/{AZURITE_ACCOUNT}/{AZURITE_ACCOUNT}/{container}\nrestype:container"
    to_sign = "PUT\n" + "\n" * 11 + canonical_headers + resource
    mac = hmac.new(base64.b64decode(AZURITE_KEY), to_sign.encode(), hashlib.sha256).digest()
    headers["Authorization"] = f"SharedKey {AZURITE_ACCOUNT}:{base64.b64encode(mac).decode()}"
    response = httpx.put(
        f"{server.url}/{AZURITE_ACCOUNT}/{container}?restype=container", headers=headers
    )
    assert response.status_code == 201, response.text
