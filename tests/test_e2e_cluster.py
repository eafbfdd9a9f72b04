"""End to end, split in processes: an API-only `gouache serve --no-workers` and `gouache worker`
processes sharing one database (a SQLite file or PostgreSQL) and one image folder, driven by the
official openai package. A worker killed in the middle of an operation loses nothing: its lease
lapses and another worker runs the operation, whose result is written once."""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import openai
import pytest

from tests.conftest import png_size
from tests.server import (
    RunningWorker,
    free_port,
    launch_worker,
    start_server,
    stop_worker,
)

pytestmark = pytest.mark.e2e

KEY = "cluster-e2e-key"
VERSION = "?api-version=2023-06-01-preview"
ASYNC = "/openai/images/generations:submit" + VERSION

CONFIG = """
[server]
lease_s = {lease_s}

[deployments.dall-e-2]
profile = "dall-e-2"
engine = "tests.engines_for_tests:RecordingEngine"

[deployments.dall-e-2.options]
record = "{record}"
delay_s = {delay_s}
max_batch_images = 1
"""


def wait_worker_ready(worker: RunningWorker, port: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.process.poll() is not None:
            raise RuntimeError(f"gouache worker exited:\n{worker.log()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"gouache worker was not ready:\n{worker.log()}")


def runs(record: Path) -> list[tuple[str, int, str]]:
    """(start|end, pid, prompt) for every line the recording engine wrote."""
    if not record.exists():
        return []
    found = []
    for line in record.read_text().splitlines():
        word, pid, prompt = line.split(" ", 2)
        found.append((word, int(pid), prompt))
    return found


class Cluster:
    def __init__(self, tmp_path: Path, database_url: str, *, lease_s: float, delay_s: float):
        self.tmp = tmp_path
        self.database = database_url
        self.record = tmp_path / "runs.log"
        self.config = tmp_path / "cluster.toml"
        self.config.write_text(CONFIG.format(lease_s=lease_s, record=self.record, delay_s=delay_s))
        self.storage = str(tmp_path / "images")
        self.workers: list[RunningWorker] = []

    def worker(self) -> RunningWorker:
        port = free_port()
        args = [
            "--database",
            self.database,
            "--storage",
            self.storage,
            "--config",
            str(self.config),
            "--metrics-port",
            str(port),
            "--data-dir",
            str(self.tmp / "worker-data"),
        ]
        log = self.tmp / f"worker-{port}.log"
        worker = launch_worker(args, log_path=log)
        self.workers.append(worker)
        wait_worker_ready(worker, port)
        return worker

    @contextlib.contextmanager
    def api(self) -> Iterator:
        args = ["--no-workers", "--database", self.database, "--storage", self.storage]
        args += ["--config", str(self.config)]
        with start_server(
            self.tmp, env={"GOUACHE_API_KEYS": KEY}, args=args, data_dir=self.tmp / "api"
        ) as server:
            yield server

    def stop(self) -> None:
        for worker in self.workers:
            stop_worker(worker)


@pytest.fixture
def cluster(tmp_path: Path, database_url: str) -> Iterator[Cluster]:
    made = Cluster(tmp_path, database_url, lease_s=1.5, delay_s=0.3)
    try:
        yield made
    finally:
        made.stop()


def test_api_node_and_worker_processes_answer_sync_and_async(cluster: Cluster):
    cluster.worker()
    with cluster.api() as api:
        client = openai.OpenAI(base_url=f"{api.url}/v1", api_key=KEY)
        image = client.images.generate(model="dall-e-2", prompt="sync one", n=2, size="256x256")
        assert len(image.data) == 2
        for item in image.data:
            assert png_size(httpx.get(item.url, timeout=10).content) == (256, 256)
        submitted = httpx.post(
            api.url + ASYNC,
            json={"prompt": "async one", "size": "256x256"},
            headers={"api-key": KEY},
        )
        assert submitted.status_code == 202
        location = submitted.headers["operation-location"]
        deadline = time.monotonic() + 60
        while (body := httpx.get(location, headers={"api-key": KEY}).json())["status"] not in (
            "succeeded",
            "failed",
        ) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert body["status"] == "succeeded", body
        # the API node ran nothing: every run was the worker's
        pids = {pid for _, pid, _ in runs(cluster.record)}
        assert pids == {cluster.workers[0].pid}
        assert api.process.pid not in pids


def test_a_worker_killed_mid_operation_loses_nothing_and_the_result_is_written_once(
    cluster: Cluster,
):
    doomed = cluster.worker()
    with cluster.api() as api:
        headers = {"api-key": KEY}
        ids = []
        for index in range(4):
            response = httpx.post(
                api.url + ASYNC,
                json={"prompt": f"op {index}", "size": "256x256", "n": 2},
                headers=headers,
            )
            assert response.status_code == 202
            ids.append(response.json()["id"])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # wait until it is inside an operation
            started = [r for r in runs(cluster.record) if r[0] == "start"]
            if started:
                break
            time.sleep(0.02)
        doomed.kill()
        cut = [prompt for word, _, prompt in runs(cluster.record) if word == "start"]
        ended = [prompt for word, _, prompt in runs(cluster.record) if word == "end"]
        interrupted = [prompt for prompt in cut if prompt not in ended]
        assert interrupted, "the worker was not killed inside an operation"
        cluster.worker()  # a new worker: the lapsed lease lets it run the interrupted one
        bodies = {}
        deadline = time.monotonic() + 90
        for operation_id in ids:
            url = f"{api.url}/openai/operations/images/{operation_id}{VERSION}"
            while (body := httpx.get(url, headers=headers).json())["status"] not in (
                "succeeded",
                "failed",
            ) and time.monotonic() < deadline:
                time.sleep(0.05)
            bodies[operation_id] = body
        assert {body["status"] for body in bodies.values()} == {"succeeded"}, bodies
        counts = Counter(prompt for word, _, prompt in runs(cluster.record) if word == "end")
        assert counts[interrupted[0]] == 1  # the work was repeated, the result was not
        for body in bodies.values():
            names = [item["url"].split("?")[0].rsplit("/", 1)[1] for item in body["result"]["data"]]
            prefixes = {name.split("-")[0] if "-" in name else "1" for name in names}
            assert len(names) == 2 and len(prefixes) == 1, names  # one attempt's images
            for item in body["result"]["data"]:
                assert png_size(httpx.get(item["url"], timeout=10).content) == (256, 256)


def test_worker_refuses_unknown_deployments_and_bad_urls_clearly(tmp_path: Path):
    import subprocess
    import sys

    def worker(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gouache.cli.main", "worker", *args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )

    unknown = worker("--deployments", "dall-e-2,dalle-4")
    assert unknown.returncode == 2
    assert "--deployments names dalle-4, which the config does not define" in unknown.stderr
    assert "dall-e-3" in unknown.stderr  # says which there are
    bad = worker("--database", "mysql://root:hunter2@db/gouache")
    assert bad.returncode == 2
    assert "uses 'mysql', which gouache does not support" in bad.stderr
    assert "hunter2" not in bad.stderr + bad.stdout


def test_a_worker_beside_a_one_machine_server_shares_its_data_dir(tmp_path: Path):
    """`gouache serve` (workers on, holding serve.lock) and a `gouache worker --data-dir` on the
    same data dir: both run operations from the one SQLite file and write to the one folder."""
    record = tmp_path / "runs.log"
    config = tmp_path / "one.toml"
    config.write_text(CONFIG.format(lease_s=30, record=record, delay_s=0.2))
    data = tmp_path / "data"
    with start_server(tmp_path, args=["--config", str(config)], data_dir=data) as server:
        port = free_port()
        worker = launch_worker(
            ["--data-dir", str(data), "--config", str(config), "--metrics-port", str(port)],
            log_path=tmp_path / "worker.log",
        )
        try:
            wait_worker_ready(worker, port)
            ids = []
            for index in range(20):  # 4 s of engine time: several of the worker's 1 s polls
                response = httpx.post(
                    server.url + ASYNC, json={"prompt": f"shared {index}", "size": "256x256"}
                )
                assert response.status_code == 202
                ids.append(response.json()["id"])
            deadline = time.monotonic() + 90
            for operation_id in ids:
                url = f"{server.url}/openai/operations/images/{operation_id}{VERSION}"
                while (body := httpx.get(url).json())["status"] != "succeeded":
                    assert body["status"] in ("notRunning", "running"), body
                    assert time.monotonic() < deadline, body
                    time.sleep(0.05)
                (item,) = body["result"]["data"]
                assert png_size(httpx.get(item["url"], timeout=10).content) == (256, 256)
            pids = Counter(pid for word, pid, _ in runs(record) if word == "end")
            assert set(pids) == {server.process.pid, worker.pid}, pids
            assert sum(pids.values()) == len(ids)  # each ran once
        finally:
            stop_worker(worker)


def test_a_worker_that_lost_its_lease_writes_no_result_and_removes_only_its_own_images(
    cluster: Cluster,
):
    """SIGSTOP freezes a worker mid-operation (heartbeats included), as a long pause or a
    network partition would; its lease lapses and another worker runs the operation. Thawed, the
    first worker finishes its engine call and writes its images, but its result is refused and it
    removes exactly the images it wrote, never the new owner's."""
    import os
    import signal

    frozen = cluster.worker()
    with cluster.api() as api:
        headers = {"api-key": KEY}
        response = httpx.post(
            api.url + ASYNC, json={"prompt": "paused", "size": "256x256", "n": 2}, headers=headers
        )
        operation_id = response.json()["id"]
        deadline = time.monotonic() + 60
        while ("start", frozen.pid, "paused") not in runs(cluster.record):
            assert time.monotonic() < deadline, frozen.log()
            time.sleep(0.01)
        os.kill(frozen.pid, signal.SIGSTOP)
        try:
            cluster.worker()  # claims it once the frozen worker's lease has lapsed
            url = f"{api.url}/openai/operations/images/{operation_id}{VERSION}"
            while (body := httpx.get(url, headers=headers).json())["status"] != "succeeded":
                assert body["status"] in ("running", "notRunning"), body
                assert time.monotonic() < deadline + 60, body
                time.sleep(0.05)
        finally:
            os.kill(frozen.pid, signal.SIGCONT)
        names = sorted(
            urlsplit(item["url"]).path.rsplit("/", 1)[1] for item in body["result"]["data"]
        )
        assert names == ["2-0.png", "2-1.png"]  # the second attempt's images
        folder = Path(cluster.storage) / operation_id
        deadline = time.monotonic() + 60
        while ("end", frozen.pid, "paused") not in runs(cluster.record) or "lost its lease" not in (
            frozen.log()
        ):
            assert time.monotonic() < deadline, frozen.log()
            time.sleep(0.05)
        # it logs the loss, then removes its own 0.png and 1.png; the new owner's stay
        while (stored := sorted(path.name for path in folder.iterdir())) != names:
            assert time.monotonic() < deadline, stored
            time.sleep(0.05)
        assert httpx.get(url, headers=headers).json()["result"] == body["result"]
        for item in body["result"]["data"]:
            assert png_size(httpx.get(item["url"], timeout=10).content) == (256, 256)
