"""The forwarding engine relaying edits and variations to a real HTTP upstream.

The upstream is a small HTTP server started here on a free port, standing in for OpenAI and Azure
OpenAI: it parses the multipart bodies the engine sends, keeps what it received for the test to
check, and answers as those services do (images as b64_json, or their error bodies). Its images
are the received input turned upside down, so a test can tell the answer came from the input.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import io
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageOps

from gouache.engines import create_engine
from gouache.engines.base import ImageRequest
from gouache.engines.forward import ForwardEngine
from gouache.errors import ContentFiltered, InvalidRequest, TooManyRequests, UpstreamError
from tests.conftest import png_bytes


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    fields: dict[str, str] = field(default_factory=dict)
    files: list[tuple[str, str, str, bytes]] = field(default_factory=list)  # name, file, type


class Upstream:
    """A threaded HTTP server answering image edits and variations."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return None

            def do_POST(self) -> None:
                upstream.handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        url = urlsplit(handler.path)
        body = handler.rfile.read(int(handler.headers.get("content-length", 0)))
        seen = Received(
            "POST",
            url.path,
            parse_qs(url.query),
            {k.lower(): v for k, v in handler.headers.items()},
        )
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"content-type: {handler.headers['content-type']}\r\n\r\n".encode() + body
        )
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            filename = part.get_filename()
            payload = part.get_payload(decode=True)
            if filename is None:
                seen.fields[name] = payload.decode()
            else:
                seen.files.append((name, filename, part.get_content_type(), payload))
        self.received.append(seen)
        prompt = seen.fields.get("prompt", "")
        if "forbidden" in prompt:
            error = {
                "code": "content_policy_violation",
                "message": "Your request was rejected as a result of our safety system.",
                "inner_error": {"code": "ResponsibleAIPolicyViolation"},
            }
            return self._answer(handler, 400, {"error": error})
        if "busy" in prompt:
            return self._answer(
                handler,
                429,
                {"error": {"code": "429", "message": "slow down"}},
                {"retry-after": "9"},
            )
        if "bad key" in prompt:
            return self._answer(handler, 401, {"error": {"code": "401", "message": "bad key"}})
        if "too big" in prompt:
            error = {"code": "invalid_value", "message": "size too big", "param": "size"}
            return self._answer(handler, 400, {"error": error})
        first = Image.open(io.BytesIO(seen.files[0][3])).convert("RGB")
        width, height = (int(v) for v in seen.fields["size"].split("x"))
        answer = ImageOps.flip(first.resize((width, height)))
        buffer = io.BytesIO()
        answer.save(buffer, format="PNG")
        item = {"b64_json": base64.b64encode(buffer.getvalue()).decode(), "revised_prompt": prompt}
        count = int(seen.fields.get("n", "1"))
        self._answer(handler, 200, {"created": 1, "data": [item] * count})

    @staticmethod
    def _answer(
        handler: BaseHTTPRequestHandler, status: int, body: dict, headers: dict | None = None
    ) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(data)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(data)


@pytest.fixture(scope="module")
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def _fresh(upstream: Upstream) -> None:
    upstream.received.clear()


def _engine(upstream: Upstream, **options: str) -> ForwardEngine:
    engine = create_engine("forward", {"endpoint": upstream.url, "api_key": "up-key", **options})
    assert isinstance(engine, ForwardEngine)
    engine.setup()
    return engine


def _picture() -> Image.Image:
    picture = Image.new("RGB", (64, 64), (250, 250, 250))
    ImageDraw.Draw(picture).rectangle((0, 0, 63, 20), fill=(200, 20, 20))  # red band on top
    return picture


def _mask() -> bytes:
    mask = Image.new("RGBA", (64, 64), (0, 0, 0, 255))
    ImageDraw.Draw(mask).rectangle((20, 20, 40, 40), fill=(0, 0, 0, 0))
    return png_bytes(mask)


def _edit(**fields) -> ImageRequest:
    values = {
        "prompt": "a red hat",
        "n": 2,
        "size": "64x64",
        "seed": 1,
        "operation": "edit",
        "images": (png_bytes(_picture()),),
        "mask": _mask(),
        "quality": "high",
        "output_format": "webp",
        "input_fidelity": "high",
    }
    values.update(fields)
    return ImageRequest(**values)


def test_openai_edit_is_relayed_as_multipart(upstream: Upstream) -> None:
    engine = _engine(upstream, api="openai", model="gpt-image-1")
    [images] = engine.generate([_edit()])
    [seen] = upstream.received
    assert seen.path == "/v1/images/edits"
    assert seen.headers["authorization"] == "Bearer up-key"
    assert seen.fields["prompt"] == "a red hat" and seen.fields["model"] == "gpt-image-1"
    assert seen.fields["n"] == "2" and seen.fields["size"] == "64x64"
    assert seen.fields["quality"] == "high" and seen.fields["input_fidelity"] == "high"
    assert seen.fields["output_format"] == "webp"
    assert [(name, kind) for name, _, kind, _ in seen.files] == [
        ("image", "image/png"),
        ("mask", "image/png"),
    ]
    assert seen.files[1][3] == _mask()  # the mask goes as it came: same alpha convention
    assert len(images) == 2
    decoded = np.asarray(Image.open(io.BytesIO(images[0].data)).convert("RGB"))
    assert decoded.shape == (64, 64, 3)
    assert decoded[-5, 30, 0] > 150 and decoded[5, 30, 1] > 200  # the upstream's flipped input
    assert images[0].media_type == "image/png"


def test_several_images_go_as_repeated_image_parts(upstream: Upstream) -> None:
    engine = _engine(upstream, api="openai")
    request = _edit(images=(png_bytes(_picture()), _picture().rotate(90)), mask=None, n=1)
    engine.generate([request])
    [seen] = upstream.received
    assert [name for name, *_ in seen.files] == ["image[]", "image[]"]
    assert "model" not in seen.fields


def test_openai_variation(upstream: Upstream) -> None:
    engine = _engine(upstream, api="openai", model="dall-e-2", endpoint=f"{upstream.url}/v1")
    request = ImageRequest(
        prompt="", n=3, size="32x32", seed=1, operation="variation", images=(_picture(),)
    )
    [images] = engine.generate([request])
    [seen] = upstream.received
    assert seen.path == "/v1/images/variations"
    assert "prompt" not in seen.fields and seen.fields["model"] == "dall-e-2"
    assert seen.fields["response_format"] == "b64_json"
    assert [Image.open(io.BytesIO(i.data)).size for i in images] == [(32, 32)] * 3


def test_azure_edit_uses_the_deployments_route(upstream: Upstream) -> None:
    engine = _engine(upstream, api="azure", deployment="gpt-image-1")
    [images] = engine.generate([_edit(n=1)])
    [seen] = upstream.received
    assert seen.path == "/openai/deployments/gpt-image-1/images/edits"
    # The configured 2024-10-21 has no edits route: edits go at the first version that has.
    assert seen.query["api-version"] == ["2025-04-01-preview"]
    assert seen.headers["api-key"] == "up-key"
    assert len(images) == 1
    newer = _engine(upstream, api="azure", deployment="d", api_version="2025-08-28")
    newer.generate([_edit(n=1)])
    assert upstream.received[-1].query["api-version"] == ["2025-08-28"]


def test_what_an_upstream_style_cannot_do_is_refused(upstream: Upstream) -> None:
    azure = _engine(upstream, api="azure", deployment="d")
    assert azure.supports_edits and not azure.supports_variations
    variation = ImageRequest(
        prompt="", n=1, size="64x64", seed=1, operation="variation", images=(_picture(),)
    )
    [refused] = azure.run_batch([variation])
    assert isinstance(refused, InvalidRequest) and "no image variations" in refused.message
    preview_api = _engine(upstream, api="azure-async")
    assert not preview_api.supports_edits
    [refused] = preview_api.run_batch([_edit()])
    assert isinstance(refused, InvalidRequest) and "2025-04-01-preview" in refused.message
    assert upstream.received == []


def test_upstream_errors_are_mapped_as_for_generations(upstream: Upstream) -> None:
    engine = _engine(upstream, api="openai")
    with pytest.raises(ContentFiltered):
        engine.generate([_edit(prompt="something forbidden")])
    with pytest.raises(TooManyRequests) as busy:
        engine.generate([_edit(prompt="busy")])
    assert busy.value.headers["retry-after"] == "9"
    with pytest.raises(UpstreamError) as key:
        engine.generate([_edit(prompt="bad key")])
    assert key.value.status_code == 502 and upstream.url in key.value.message
    with pytest.raises(UpstreamError) as size:
        engine.generate([_edit(prompt="too big")])
    assert size.value.status_code == 400 and size.value.param == "size"
