"""`gouache generate` end to end: in-process, as a real subprocess, and against `gouache serve`."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from PIL import Image

from gouache.cli.main import main
from gouache.errors import InvalidRequest
from tests.server import start_server

KEY = "test-key-123"
CONFIG = """
[deployments.dall-e-2]
profile = "dall-e-2"
engine = "instant"

[deployments.dall-e-3]
profile = "dall-e-3"
engine = "instant"

[deployments.small]
profile = "dall-e-2"
engine = "instant"
sizes = ["512x512"]
"""


@pytest.fixture(autouse=True)
def no_azure_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "OPENAI_API_VERSION"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("serve")
    with start_server(tmp, config=CONFIG, env={"GOUACHE_API_KEYS": KEY}) as running:
        yield running


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["generate", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def remote(server) -> list[str]:
    return ["--endpoint", server.url, "--api-key", KEY, "--quiet"]


def png_size(path: Path | str) -> tuple[int, int]:
    with Image.open(path) as image:
        assert image.format == "PNG"
        return image.size


def assert_saved(operation: dict, out: Path, n: int, size: str) -> None:
    data = operation["result"]["data"]
    assert len(data) == n
    expected = [f"{operation['id']}-{index}.png" for index in range(n)]
    assert sorted(p.name for p in out.iterdir()) == sorted(expected)  # nothing else, no .part
    for index, item in enumerate(data):
        path = Path(item["path"])
        assert path.name == expected[index] and path.parent == out.resolve()
        assert "x".join(map(str, png_size(path))) == size


# -- in-process --------------------------------------------------------------------------------


def test_in_process_prints_the_operation_and_saves_the_images(capsys, tmp_path):
    out = tmp_path / "imgs"
    code, stdout, stderr = cli(
        capsys, "a red running shoe", "-n", "2", "--size", "256x256", "--engine", "instant",
        "--out", str(out), "--user", "user-7", "--seed", "5",
    )  # fmt: skip
    assert code == 0, stderr
    assert stderr == ""  # not a terminal: no progress display
    operation = json.loads(stdout)
    assert list(operation) == ["id", "created", "expires", "result", "status"]
    assert uuid.UUID(operation["id"])
    assert operation["status"] == "succeeded"
    assert operation["expires"] == operation["created"] + 86400
    assert operation["result"]["created"] >= operation["created"]
    assert_saved(operation, out, 2, "256x256")
    for item in operation["result"]["data"]:
        assert item["url"] == Path(item["path"]).as_uri()


def test_in_process_defaults_to_gouache_images_in_the_current_folder(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, stdout, _ = cli(capsys, "a lighthouse", "--size", "512x512", "--engine", "instant")
    assert code == 0
    operation = json.loads(stdout)
    assert_saved(operation, tmp_path / "gouache-images", 1, "512x512")


def test_in_process_default_size_is_1024(capsys, tmp_path):
    code, stdout, _ = cli(capsys, "a kite", "--engine", "instant", "--out", str(tmp_path))
    assert code == 0
    assert_saved(json.loads(stdout), tmp_path, 1, "1024x1024")


# Every size of the deployment named is drawn in-process, at that size, by the built-in engine.
DEPLOYMENT_SIZES = [
    ("dall-e-2", "256x256", "256x256"),
    ("dall-e-3", "1792x1024", "1792x1024"),
    ("dall-e-3", "1024x1792", "1024x1792"),
    ("dall-e-3", "1024x1024", "1024x1024"),
    ("gpt-image-1", "1536x1024", "1536x1024"),
    ("gpt-image-1", "1024x1536", "1024x1536"),
    ("gpt-image-1", "auto", "1024x1024"),
]


@pytest.mark.parametrize(("deployment", "size", "drawn"), DEPLOYMENT_SIZES)
def test_in_process_draws_every_size_of_the_deployment_named(
    capsys, tmp_path, deployment, size, drawn
):
    code, stdout, stderr = cli(
        capsys, "a harbour at dawn", "--size", size, "--deployment", deployment,
        "--out", str(tmp_path), "--seed", "3",
    )  # fmt: skip
    assert code == 0, stderr
    assert_saved(json.loads(stdout), tmp_path, 1, drawn)


def test_in_process_deployment_default_size_and_larger_n(capsys, tmp_path):
    code, stdout, stderr = cli(
        capsys, "a kite", "--deployment", "gpt-image-1", "-n", "7", "--engine", "instant",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 0, stderr
    assert_saved(json.loads(stdout), tmp_path, 7, "1024x1024")  # gpt-image-1's auto


LOCAL_REFUSALS = [
    (
        ["--size", "1792x1024"],
        "'size' must be one of 256x256, 512x512, 1024x1024 for deployment 'dall-e-2' (dall-e-2); "
        "received \"1792x1024\". 1792x1024 is offered by deployment 'dall-e-3': use "
        "--deployment dall-e-3.",
    ),
    (
        ["--size", "1536x1024", "--deployment", "dall-e-3"],
        "'size' must be one of 1024x1024, 1792x1024, 1024x1792 for deployment 'dall-e-3' "
        "(dall-e-3); received \"1536x1024\". 1536x1024 is offered by deployment 'gpt-image-1': "
        "use --deployment gpt-image-1.",
    ),
    (
        ["--size", "300x300", "--deployment", "gpt-image-1"],
        "'size' must be one of auto, 1024x1024, 1536x1024, 1024x1536 for deployment "
        "'gpt-image-1' (gpt-image-1); received \"300x300\".",
    ),
    (
        ["-n", "2", "--deployment", "dall-e-3"],
        "'n' must be from 1 to 1; received 2. n=2 is allowed by deployment 'dall-e-2': use "
        "--deployment dall-e-2 or --deployment gpt-image-1.",
    ),
    (
        ["-n", "7"],
        "'n' must be from 1 to 5; received 7. n=7 is allowed by deployment 'gpt-image-1': use "
        "--deployment gpt-image-1.",
    ),
    (
        ["--deployment", "dalle3"],
        "In-process generation offers the deployments dall-e-2, dall-e-3, gpt-image-1; received "
        "'dalle3'. Name one of them, or call the server that has 'dalle3' with --endpoint.",
    ),
]


@pytest.mark.parametrize(("args", "message"), LOCAL_REFUSALS, ids=lambda v: str(v)[:40])
def test_in_process_refuses_what_the_deployment_does_not_offer(capsys, tmp_path, args, message):
    out = tmp_path / "out"
    code, stdout, stderr = cli(capsys, "a cat", *args, "--engine", "instant", "--out", str(out))
    assert (code, stdout) == (2, "")
    assert stderr == f"gouache generate: {message}\n"
    assert not out.exists()


def test_in_process_size_refusal_matches_the_servers_default_deployment(capsys, tmp_path):
    """The same words a `gouache serve` with the default deployments answers, hint aside."""
    from gouache.profiles import DALL_E_3
    from gouache.validation import ASYNC_FIELDS, validate_generation

    with pytest.raises(InvalidRequest) as served:
        validate_generation(
            {"prompt": "a cat", "size": "512x512"}, DALL_E_3, deployment="dall-e-3",
            allowed_fields=ASYNC_FIELDS,
        )  # fmt: skip
    code, _, stderr = cli(capsys, "a cat", "--size", "512x512", "--deployment", "dall-e-3",
                          "--out", str(tmp_path))  # fmt: skip
    assert code == 2
    assert stderr.startswith(f"gouache generate: {served.value.message} 512x512 is offered by")


def test_real_gouache_subprocess_in_process_table(tmp_path):
    exe = shutil.which("gouache", path=str(Path(sys.executable).parent)) or "gouache"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_OPENAI", "OPENAI_"))}
    done = subprocess.run(
        [exe, "generate", "two pears", "-n", "2", "--size", "256x256", "--engine", "instant",
         "--format", "table"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    assert lines[0].startswith("id ") and lines[1].split() == ["status", "succeeded"]
    saved = sorted((tmp_path / "gouache-images").iterdir())
    assert len(saved) == 2
    assert [line.split()[-1] for line in lines[4:]] == [str(p) for p in saved]


def test_readme_main_job_real_subprocess_on_the_builtin_engine(tmp_path):
    """The README's "run the main job": a fresh folder, no server, no flags but the prompt."""
    exe = shutil.which("gouache", path=str(Path(sys.executable).parent)) or "gouache"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_OPENAI", "OPENAI_"))}
    done = subprocess.run(
        [exe, "generate", "a red apple on a wooden table", "--size", "512x512"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    operation = json.loads(done.stdout)
    assert_saved(operation, tmp_path / "gouache-images", 1, "512x512")
    with Image.open(operation["result"]["data"][0]["path"]) as image:
        assert len(image.convert("RGB").getcolors(1 << 20)) > 16  # drawn, not a flat placeholder


# -- bad input: refused before anything is sent (the endpoint does not even exist) -------------

BAD = [
    (["", "-n", "1"], "'prompt' must not be empty"),
    (["x" * 1001], "'prompt' is 1001 characters; the maximum for deployment 'dall-e-2' (dall-e-2) is 1000"),
    (["a cat", "-n", "0"], "'n' must be from 1 to 5; received 0."),
    (["a cat", "-n", "6"], "'n' must be from 1 to 5; received 6."),
    (["a cat", "--size", "300x300"], "'size' must be one of 256x256, 512x512, 1024x1024"),
    (["a cat", "--user", "u" * 257], "'user' is 257 characters; at most 256 are kept"),
    (["a cat", "--timeout", "0"], "'timeout' must be a number of seconds above 0"),
    (["a cat", "--retries", "0"], "'retries' is the most tries of one request, 1 to 20"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "message"), BAD, ids=lambda v: str(v)[:30])
@pytest.mark.parametrize("where", ["in-process", "remote"])
def test_bad_input_exits_2_with_what_is_allowed(capsys, tmp_path, args, message, where):
    out = tmp_path / "out"
    extra = (
        ["--engine", "instant"] if where == "in-process" else ["--endpoint", "http://127.0.0.1:9"]
    )
    code, stdout, stderr = cli(capsys, *args, *extra, "--out", str(out))
    assert code == 2
    assert stdout == ""
    assert stderr.startswith("gouache generate: ") and message in stderr
    assert not out.exists()


def test_refuses_what_the_service_refuses_in_the_same_words(capsys, server):
    body = {"prompt": "a cat", "size": "300x300"}
    answer = httpx.post(
        f"{server.url}/openai/images/generations:submit?api-version=2023-06-01-preview",
        json=body,
        headers={"api-key": KEY},
    )
    assert answer.status_code == 400
    code, _, stderr = cli(capsys, "a cat", "--size", "300x300")
    assert code == 2
    assert stderr.strip() == f"gouache generate: {answer.json()['error']['message']}"


# -- against a real gouache serve --------------------------------------------------------------


def test_async_route_without_out_gives_the_servers_operation(capsys, server, tmp_path):
    code, stdout, stderr = cli(
        capsys, "a blue vase", "-n", "3", "--size", "256x256", *remote(server)
    )
    assert code == 0, stderr
    operation = json.loads(stdout)
    polled = httpx.get(
        f"{server.url}/openai/operations/images/{operation['id']}",
        params={"api-version": "2023-06-01-preview"},
        headers={"api-key": KEY},
    ).json()
    assert {k: polled[k] for k in ("id", "created", "expires", "status")} == {
        k: operation[k] for k in ("id", "created", "expires", "status")
    }
    assert operation["expires"] - operation["created"] == 86400
    data = operation["result"]["data"]
    assert len(data) == 3 and all("path" not in item for item in data)
    image = httpx.get(data[2]["url"])
    assert image.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(image.content)).size == (256, 256)


def test_async_route_with_out_downloads_every_image(capsys, server, tmp_path):
    out = tmp_path / "downloads"
    code, stdout, stderr = cli(
        capsys, "a blue vase", "-n", "2", "--size", "512x512", "--out", str(out), *remote(server)
    )
    assert code == 0, stderr
    operation = json.loads(stdout)
    assert operation["result"]["data"][0]["url"].startswith(server.url)
    assert_saved(operation, out, 2, "512x512")


def test_deployments_route_default_deployment_is_dall_e_3(capsys, server, tmp_path):
    code, stdout, stderr = cli(
        capsys, "a teapot", "--api-version", "2024-02-01", "--out", str(tmp_path), *remote(server)
    )
    assert code == 0, stderr
    operation = json.loads(stdout)
    assert uuid.UUID(operation["id"])  # made by the client; the route has no operation
    assert operation["expires"] is None  # the route does not say
    assert operation["status"] == "succeeded"
    assert operation["result"]["created"] == operation["created"]
    assert operation["result"]["data"][0]["revised_prompt"] == "a teapot"
    assert_saved(operation, tmp_path, 1, "1024x1024")


def test_deployments_route_named_deployment_without_out(capsys, server):
    code, stdout, stderr = cli(
        capsys, "three apples", "-n", "3", "--size", "256x256", "--deployment", "dall-e-2",
        "--api-version", "2024-10-21", *remote(server),
    )  # fmt: skip
    assert code == 0, stderr
    data = json.loads(stdout)["result"]["data"]
    assert len(data) == 3
    assert Image.open(io.BytesIO(httpx.get(data[0]["url"]).content)).size == (256, 256)


@pytest.mark.parametrize("api_version", ["2023-06-01-preview", "2024-10-21"])
@pytest.mark.parametrize("size", ["1792x1024", "1024x1792"])
def test_remote_dall_e_3_draws_wide_and_tall(capsys, server, tmp_path, api_version, size):
    """A deployment named after dall-e-3 is checked by dall-e-3's rules: the size is sent."""
    code, stdout, stderr = cli(
        capsys, "a harbour at dawn", "--deployment", "dall-e-3", "--size", size,
        "--api-version", api_version, "--out", str(tmp_path), *remote(server),
    )  # fmt: skip
    assert code == 0, stderr
    assert_saved(json.loads(stdout), tmp_path, 1, size)
    with Image.open(next(tmp_path.iterdir())) as image:
        assert image.format == "PNG"


def test_remote_custom_deployment_refusal_comes_from_the_server(capsys, server, tmp_path):
    """`small`'s sizes are known only to its server: a well-formed size is sent, and the
    server's 400 is printed (exit 1), where a malformed one is refused here (exit 2)."""
    code, _, stderr = cli(
        capsys, "a cat", "--deployment", "small", "--size", "1792x1024",
        "--api-version", "2024-10-21", *remote(server),
    )  # fmt: skip
    assert code == 1
    assert stderr == (
        "gouache generate: error 400 invalid_value: 'size' must be one of 512x512 for deployment "
        "'small' (dall-e-2); received \"1792x1024\".\n"
    )
    code, _, stderr = cli(
        capsys, "a cat", "--deployment", "small", "--size", "1792", *remote(server)
    )
    assert code == 2
    assert "'size' must be WIDTHxHEIGHT in pixels" in stderr


def test_environment_variables_select_the_endpoint(capsys, server, monkeypatch, tmp_path):
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", server.url + "/")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_API_VERSION", "2024-02-01")
    code, stdout, stderr = cli(capsys, "a moon", "--quiet", "--format", "table")
    assert code == 0, stderr
    lines = stdout.splitlines()
    assert lines[3].split() == ["expires", "-"]  # deployments route: the server did not say
    assert lines[4].split()[-1].startswith(server.url + "/images/")
    # --local ignores the environment
    code, stdout, _ = cli(capsys, "a moon", "--local", "--engine", "instant", "--size",
                          "256x256", "--out", str(tmp_path))  # fmt: skip
    assert code == 0
    assert json.loads(stdout)["result"]["data"][0]["url"].startswith("file://")


@pytest.mark.parametrize(
    "route", [["--deployment", "small"], ["--deployment", "small", "--api-version", "2024-02-01"]]
)
def test_server_rejection_is_passed_through(capsys, server, tmp_path, route):
    out = tmp_path / "out"
    code, stdout, stderr = cli(
        capsys, "a cat", "--size", "256x256", "--out", str(out), *route, *remote(server)
    )
    assert code == 1
    assert stdout == ""
    assert stderr.startswith(
        "gouache generate: error 400 invalid_value: 'size' must be one of 512x512 for "
        "deployment 'small'"
    )
    assert not out.exists()


def test_wrong_api_key_gives_the_401_message(capsys, server):
    code, _, stderr = cli(capsys, "a cat", "--endpoint", server.url, "--api-key", "wrong")
    assert code == 1
    assert stderr.startswith(
        "gouache generate: error 401: Access denied due to invalid subscription key"
    )


# -- progress display --------------------------------------------------------------------------


@pytest.mark.parametrize("quiet", [False, True])
def test_progress_shows_on_a_terminal_unless_quiet(server, tmp_path, quiet):
    import pty

    exe = shutil.which("gouache", path=str(Path(sys.executable).parent)) or "gouache"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_OPENAI", "OPENAI_"))}
    leader, follower = pty.openpty()
    args = [exe, "generate", "a cat", "--size", "256x256", "--endpoint", server.url]
    args += ["--api-key", KEY] + (["--quiet"] if quiet else [])
    with os.fdopen(leader, "rb", buffering=0) as terminal:
        done = subprocess.run(args, stdout=subprocess.PIPE, stderr=follower, env=env, timeout=60)
        os.close(follower)
        shown = b""
        try:
            while chunk := terminal.read(4096):
                shown += chunk
        except OSError:  # EIO: the child side is closed and drained
            pass
    assert done.returncode == 0
    assert json.loads(done.stdout)["status"] == "succeeded"  # stdout stays clean JSON
    text = shown.decode()
    if quiet:
        assert text == ""
    else:
        assert "gouache generate: notRunning" in text or "gouache generate: running" in text
        assert " s" in text and text.endswith("\r\x1b[K")  # the line is cleared at the end
