"""Slow and vanishing clients against a real `gouache serve`, over real sockets.

Clients that trickle headers or a body, or open connection after connection, used to hold a file
descriptor each for as long as they liked; a client that hung up mid-upload was logged as an
unhandled error and counted as a 500. Every wait below is a deadline for something the server
must do, never a measured duration."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.error_shape import check_error_body
from tests.server import RunningServer, start_server

pytestmark = pytest.mark.e2e

SUBMIT = "/openai/images/generations:submit?api-version=2023-06-01-preview"
DEADLINE_S = 30.0


def _connect(server: RunningServer) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE_S)
    return sock


def _read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (or the deadline fails us)."""
    chunks = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _parse(raw: bytes) -> tuple[int, dict[str, str], dict]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, json.loads(body)


def _open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _wait_for(predicate, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"the server did not {what} within {DEADLINE_S} s")


@contextlib.contextmanager
def _server(tmp_path: Path, **settings: str) -> Iterator[RunningServer]:
    env = {f"GOUACHE_{name.upper()}": value for name, value in settings.items()}
    with start_server(tmp_path, env=env, args=["--engine", "instant"]) as server:
        yield server


def test_slow_headers_are_answered_408_and_closed(tmp_path: Path):
    with _server(tmp_path, header_timeout_s="1") as server:
        baseline = _open_fds(server.process.pid)
        sockets = [_connect(server) for _ in range(40)]
        for sock in sockets:
            sock.sendall(b"POST " + SUBMIT.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        # the server keeps answering others while they dawdle
        assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
        for sock in sockets:
            status, headers, body = _parse(_read_until_closed(sock))
            assert status == 408
            assert headers["connection"] == "close"
            assert check_error_body(body, "/")["code"] == "requestTimeout"
            sock.close()
        _wait_for(lambda: _open_fds(server.process.pid) <= baseline + 2, "release the sockets")


def test_headers_trickled_one_line_at_a_time_still_hit_the_deadline(tmp_path: Path):
    with _server(tmp_path, header_timeout_s="1") as server:
        sock = _connect(server)
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        closed = False
        for index in range(int(DEADLINE_S / 0.2)):
            try:
                sock.sendall(f"x-slow-{index}: 1\r\n".encode())
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            time.sleep(0.2)
        data = b"" if closed else _read_until_closed(sock)
        assert closed or b" 408 " in data.split(b"\r\n", 1)[0]
        sock.close()


def test_a_kept_alive_connection_gets_the_header_deadline_again(tmp_path: Path):
    with _server(tmp_path, header_timeout_s="1") as server:
        sock = _connect(server)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        first = b""
        while not first.endswith(b'{"status":"ok"}'):
            first += sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200")
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finished
        assert _read_until_closed(sock).startswith(b"HTTP/1.1 408")
        sock.close()


def test_a_slow_body_is_answered_408_and_closed(tmp_path: Path):
    with _server(tmp_path, body_timeout_s="1", header_timeout_s="60") as server:
        baseline = _open_fds(server.process.pid)
        sockets = [_connect(server) for _ in range(20)]
        for sock in sockets:
            sock.sendall(
                b"POST " + SUBMIT.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"content-type: application/json\r\ncontent-length: 200\r\n\r\n"
                b'{"prompt": "a'
            )
        for sock in sockets:
            status, headers, body = _parse(_read_until_closed(sock))
            assert status == 408
            assert headers["connection"] == "close"
            error = check_error_body(body, "/openai/images/generations:submit")
            assert error["code"] == "requestTimeout"
            sock.close()
        _wait_for(lambda: _open_fds(server.process.pid) <= baseline + 2, "release the sockets")
        metrics = httpx.get(f"{server.url}/metrics", timeout=10).text
        assert 'status="408"' in metrics
        assert 'status="500"' not in metrics


def test_connections_beyond_the_cap_are_refused_at_once(tmp_path: Path):
    with _server(tmp_path, max_connections="5", header_timeout_s="60") as server:
        idle = [_connect(server) for _ in range(5)]  # accepted first: the accept queue is FIFO
        extra = _connect(server)
        status, headers, body = _parse(_read_until_closed(extra))
        assert status == 503
        assert check_error_body(body, "/")["code"] == "tooManyConnections"
        extra.close()
        for sock in idle:
            sock.close()

        def answers() -> bool:
            with contextlib.suppress(httpx.HTTPError):
                return httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200
            return False

        _wait_for(answers, "serve again once the idle connections closed")


def test_a_request_that_is_not_http_gets_the_error_json(tmp_path: Path):
    with _server(tmp_path) as server:
        for garbage in (b"GARBAGE\r\n\r\n", b"GET / HTTP/1.1\r\nno colon here\r\n\r\n"):
            sock = _connect(server)
            sock.sendall(garbage)
            status, headers, body = _parse(_read_until_closed(sock))
            sock.close()
            assert status == 400
            assert headers["content-type"] == "application/json"
            assert check_error_body(body, "/")["code"] == "invalid_request"


def test_a_client_that_hangs_up_mid_upload_is_not_a_server_error(tmp_path: Path):
    with _server(tmp_path) as server:
        for _ in range(3):
            sock = _connect(server)
            sock.sendall(
                b"POST " + SUBMIT.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"content-type: application/json\r\ncontent-length: 1000\r\n\r\n"
                b'{"prompt": "a'
            )
            sock.close()

        def counted() -> bool:
            text = httpx.get(f"{server.url}/metrics", timeout=10).text
            return 'route="/openai/images/generations:submit"' in text

        _wait_for(counted, "count the abandoned uploads")
        metrics = httpx.get(f"{server.url}/metrics", timeout=10).text
        lines = [line for line in metrics.splitlines() if "generations:submit" in line]
        assert lines and all('status="499"' in line for line in lines), lines
        log = server.log()
        assert "unhandled error" not in log
        assert "Traceback" not in log


def _self_signed(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost"]
        + ["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_serve_speaks_https_with_a_certificate(tmp_path: Path):
    cert, key = _self_signed(tmp_path)
    trust = ssl.create_default_context(cafile=str(cert))
    args = ["--engine", "instant", "--ssl-certfile", str(cert), "--ssl-keyfile", str(key)]
    with start_server(tmp_path, args=args, wait=False) as server:
        url = f"https://localhost:{server.port}"

        def ready() -> bool:
            with contextlib.suppress(httpx.HTTPError):
                return httpx.get(f"{url}/readyz", verify=trust, timeout=5).status_code == 200
            assert server.process.poll() is None, server.log()
            return False

        _wait_for(ready, "come up over HTTPS")
        response = httpx.post(
            f"{url}{SUBMIT}", json={"prompt": "a red shoe", "size": "256x256"}, verify=trust
        )
        assert response.status_code == 202, response.text
        assert response.headers["operation-location"].startswith(f"{url}/openai/operations/")


def test_serve_refuses_a_missing_certificate_by_name(tmp_path: Path):
    missing = tmp_path / "nope.pem"
    with start_server(tmp_path, args=["--ssl-certfile", str(missing)], wait=False) as server:
        assert server.process.wait(60) == 2
        assert f"cannot use ssl_certfile '{missing}'" in server.log()


def test_serve_refuses_an_encrypted_key_instead_of_prompting(tmp_path: Path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-passout", "pass:secret"]
        + ["-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=localhost"],
        check=True,
        capture_output=True,
    )
    args = ["--ssl-certfile", str(cert), "--ssl-keyfile", str(key)]
    with start_server(tmp_path, args=args, wait=False) as server:
        assert server.process.wait(60) == 2
        assert "unencrypted private key" in server.log()
