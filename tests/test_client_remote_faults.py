"""The remote client against a tiny misbehaving server: rate limits, 5xx, timeouts, failed
operations and broken downloads. The server runs in-process (uvicorn in a thread) so it can count
attempts and note when each arrived."""

from __future__ import annotations

import asyncio
import io
import json
import threading
import time
from collections import defaultdict

import pytest
import uvicorn
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gouache import agenerate_images, generate_images
from gouache.cli.main import main
from gouache.client import DownloadError, GenerationTimeout, RemoteError
from tests.server import free_port


def png(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


class Fake:
    """Route behaviour is picked by the deployment name / operation id in the path."""

    def __init__(self) -> None:
        self.hits: dict[str, list[float]] = defaultdict(list)
        self.base = ""
        self.app = Starlette(
            routes=[
                Route(
                    "/openai/deployments/{name}/images/generations", self.deploy, methods=["POST"]
                ),
                Route("/openai/images/generations:submit", self.submit, methods=["POST"]),
                Route("/openai/operations/images/{op}", self.poll, methods=["GET"]),
                Route("/img/{kind}", self.image, methods=["GET"]),
            ]
        )

    def note(self, key: str) -> int:
        self.hits[key].append(time.monotonic())
        return len(self.hits[key])

    async def deploy(self, request: Request) -> Response:
        name = request.path_params["name"]
        count = self.note(name)
        body = await request.json()
        ok = {"created": 1700000000, "data": [{"url": f"{self.base}/img/good"}] * body["n"]}
        if name == "ratelimited" and count == 1:
            return JSONResponse(
                {"error": {"code": "429", "message": "Requests have exceeded the rate limit."}},
                status_code=429,
                headers={"retry-after": "1"},
            )
        if name == "flaky" and count <= 2:
            return Response("upstream exploded", status_code=503)
        if name == "down":
            return Response("down for maintenance", status_code=503, headers={"retry-after": "0"})
        if name == "refuses":
            return JSONResponse(
                {"error": {"code": "invalid_value", "message": "no thanks", "param": "size"}},
                status_code=400,
            )
        if name == "broken":  # the second image is not an image
            ok["data"] = [{"url": f"{self.base}/img/good"}, {"url": f"{self.base}/img/html"}]
        if name == "wrongsize":
            ok["data"] = [{"url": f"{self.base}/img/small"}]
        if name == "inline":
            import base64

            ok["data"] = [{"b64_json": base64.b64encode(png((256, 256))).decode()}]
        return JSONResponse(ok)

    async def submit(self, request: Request) -> Response:
        body = await request.json()
        op = body.get("model", "stuck")
        self.note(f"submit-{op}")
        return JSONResponse(
            {"id": op, "status": "notRunning", "created": 1700000000},
            status_code=202,
            headers={
                "operation-location": f"{self.base}/openai/operations/images/{op}?api-version=x",
                "retry-after": "1",
            },
        )

    async def poll(self, request: Request) -> Response:
        op = request.path_params["op"]
        count = self.note(f"poll-{op}")
        if op == "stuck":
            return JSONResponse(
                {"id": op, "created": 1700000000, "status": "running"}, headers={"retry-after": "1"}
            )
        if op == "filtered":
            return JSONResponse(
                {
                    "id": op,
                    "created": 1700000000,
                    "status": "failed",
                    "error": {
                        "code": "contentFilter",
                        "message": "Your task failed as a result of our safety system.",
                    },
                }
            )
        if op == "busy" and count == 1:  # a 503 while polling is retried too
            return Response("", status_code=503, headers={"retry-after": "0"})
        return JSONResponse(
            {
                "id": op,
                "created": 1700000000,
                "expires": 1700086400,
                "status": "succeeded",
                "result": {"created": 1700000001, "data": [{"url": f"{self.base}/img/good"}]},
            }
        )

    async def image(self, request: Request) -> Response:
        kind = request.path_params["kind"]
        if kind == "html":
            return Response("<html>login</html>", media_type="text/html")
        return Response(png((64, 64) if kind == "small" else (256, 256)), media_type="image/png")


@pytest.fixture(scope="module")
def fake():
    fake = Fake()
    port = free_port()
    fake.base = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(
        uvicorn.Config(fake.app, host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started
    yield fake
    server.should_exit = True
    thread.join(10)


@pytest.fixture(autouse=True)
def no_azure_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "OPENAI_API_VERSION"):
        monkeypatch.delenv(name, raising=False)


def deployment(fake: Fake, name: str, **kwargs):
    return generate_images(
        "a cat", endpoint=fake.base, deployment=name, api_version="2024-02-01", **kwargs
    )


def test_429_waits_for_retry_after_then_succeeds(fake):
    operation = deployment(fake, "ratelimited", size="256x256")
    assert operation.status == "succeeded"
    first, second = fake.hits["ratelimited"]
    assert second - first >= 0.9  # the server asked for 1 s; the client did wait


def test_5xx_is_retried_with_backoff(fake):
    operation = deployment(fake, "flaky", n=2)
    assert len(operation.result.data) == 2
    assert len(fake.hits["flaky"]) == 3


def test_5xx_gives_up_after_the_allowed_tries(fake):
    with pytest.raises(RemoteError) as caught:
        deployment(fake, "down", retries=3)
    assert caught.value.status_code == 503
    assert str(caught.value) == "error 503: down for maintenance (gave up after 3 tries)"
    assert len(fake.hits["down"]) == 3


def test_other_4xx_is_not_retried(fake, capsys):
    code = main(["generate", "a cat", "--endpoint", fake.base, "--deployment", "refuses",
                 "--api-version", "2024-02-01"])  # fmt: skip
    assert code == 1
    assert capsys.readouterr().err == "gouache generate: error 400 invalid_value: no thanks\n"
    assert len(fake.hits["refuses"]) == 1
    with pytest.raises(RemoteError) as caught:
        deployment(fake, "refuses")
    assert (caught.value.status_code, caught.value.code, caught.value.param) == (
        400,
        "invalid_value",
        "size",
    )


def test_an_operation_that_never_finishes_times_out_with_exit_3(fake, capsys, tmp_path):
    out = tmp_path / "out"
    started = time.monotonic()
    code = main(["generate", "a cat", "--endpoint", fake.base, "--timeout", "2",
                 "--out", str(out)])  # fmt: skip
    assert code == 3
    err = capsys.readouterr().err
    assert err.startswith(
        "gouache generate: timed out: Operation stuck was still running after 2 s."
    )
    assert f"{fake.base}/openai/operations/images/stuck" in err
    assert time.monotonic() - started < 10
    assert not out.exists()


def test_timeout_error_says_where_to_poll(fake):
    with pytest.raises(GenerationTimeout) as caught:
        generate_images("a cat", endpoint=fake.base, timeout=1.5)
    assert caught.value.operation_id == "stuck"
    assert caught.value.status == "running"
    assert caught.value.operation_location.endswith("/openai/operations/images/stuck?api-version=x")


def test_failed_operation_raises_the_servers_error(fake, capsys):
    code = main(["generate", "a cat", "--endpoint", fake.base, "--deployment", "filtered"])
    assert code == 1
    assert capsys.readouterr().err == (
        "gouache generate: error contentFilter: Your task failed as a result of our safety system.\n"
    )


def test_poll_503_is_retried_and_async_twin_works(fake, tmp_path):
    operation = asyncio.run(
        agenerate_images("a cat", endpoint=fake.base, deployment="busy", out=tmp_path)
    )
    assert operation.to_dict()["expires"] == 1700086400
    assert len(fake.hits["poll-busy"]) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["busy-0.png"]


def test_a_non_image_download_leaves_nothing_behind(fake, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    code = main(["generate", "a cat", "-n", "2", "--endpoint", fake.base, "--deployment",
                 "broken", "--api-version", "2024-02-01", "--out", str(out)])  # fmt: skip
    assert code == 1
    assert "is text/html, not an image" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_wrong_dimensions_are_refused(fake, tmp_path):
    with pytest.raises(DownloadError, match="is 64x64; 256x256 was requested"):
        deployment(fake, "wrongsize", size="256x256", out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_inline_b64_images_are_saved(fake, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = main(["generate", "a cat", "--endpoint", fake.base, "--deployment", "inline",
                 "--api-version", "2024-02-01", "--size", "256x256"])  # fmt: skip
    assert code == 0
    item = json.loads(capsys.readouterr().out)["result"]["data"][0]
    assert item["url"].startswith("file://") and item["path"].startswith(str(tmp_path))


def test_unreachable_endpoint_is_a_network_error(capsys):
    code = main(["generate", "a cat", "--endpoint", f"http://127.0.0.1:{free_port()}",
                 "--retries", "2"])  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err
    assert "error network_error: submitting the request" in err and "(gave up after 2 tries)" in err
