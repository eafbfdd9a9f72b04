"""End to end: a JSON edit whose `image_url` is a remote https URL, fetched by a real server only
because its host is on `image_url_hosts`, from a real HTTPS image host on loopback."""

from __future__ import annotations

import base64
import http.server
import io
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.server import free_port, start_server
from tests.test_e2e_slow_clients import _self_signed

pytestmark = pytest.mark.e2e


def photo_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


class ImageHost(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server hook's name
        if self.path == "/photo.png":
            body = photo_png()
            self.send_response(200)
            self.send_header("content-type", "image/png")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/moved":
            self.send_response(302)
            self.send_header("location", "http://169.254.169.254/latest/meta-data")
            self.send_header("content-length", "0")
            self.end_headers()
        else:
            self.send_response(404)
            self.send_header("content-length", "0")
            self.end_headers()

    def log_message(self, *_args) -> None:
        pass


@pytest.fixture(scope="module")
def image_host(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("image-host")
    cert, key = _self_signed(folder)
    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), ImageHost)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://localhost:{port}", cert
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def server(tmp_path_factory, image_host):
    _url, cert = image_host
    env = {"GOUACHE_IMAGE_URL_HOSTS": "localhost", "SSL_CERT_FILE": str(cert)}
    with start_server(tmp_path_factory.mktemp("fetching"), env=env) as running:
        yield running


def edit(server, image_url: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/v1/images/edits",
        json={
            "model": "gpt-image-1",
            "prompt": "the same scene at night",
            "images": [{"image_url": image_url}],
            "size": "1536x1024",
        },
        timeout=60,
    )


def test_an_allow_listed_https_image_is_fetched_and_edited(server, image_host):
    url, _cert = image_host
    response = edit(server, f"{url}/photo.png")
    assert response.status_code == 200, response.text
    (item,) = response.json()["data"]
    image = Image.open(io.BytesIO(base64.b64decode(item["b64_json"])))
    assert (image.format, image.size) == ("PNG", (1536, 1024))


@pytest.mark.parametrize(
    ("path", "words"),
    [("/moved", "answered HTTP 302"), ("/missing.png", "answered HTTP 404")],
)
def test_redirects_and_errors_of_the_host_are_refused(server, image_host, path, words):
    url, _cert = image_host
    response = edit(server, f"{url}{path}")
    assert response.status_code == 400
    assert words in response.json()["error"]["message"]


def test_hosts_off_the_list_are_never_fetched(server, image_host):
    url, _cert = image_host
    response = edit(server, url.replace("localhost", "127.0.0.1") + "/photo.png")
    assert response.status_code == 400
    assert "does not fetch remote images" in response.json()["error"]["message"]
