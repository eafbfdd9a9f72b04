"""Chaos: two API nodes and three workers on one PostgreSQL database and one Azurite container.

300 operations are submitted across both API nodes while workers are SIGKILLed in the middle of
an operation (twice) and an API node once; each is restarted. What must hold:

- every accepted operation ends `succeeded`, with one consistent set of images (all from one
  attempt): a lapsed lease may repeat the work, never the result;
- every image link works from either API node and delivers the same bytes;
- once the operations expire, no object remains in the container (no orphans of killed attempts).

The engine records every run (start and end, with its process id) to a file, which is how the test
knows a worker was killed inside an operation and that the interrupted work ran again.
"""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from gouache.storage import from_url
from tests.object_servers import azurite, azurite_env, create_container
from tests.server import (
    RunningServer,
    RunningWorker,
    free_port,
    launch,
    launch_worker,
    stop,
    stop_worker,
    wait_ready,
)
from tests.test_e2e_cluster import runs, wait_worker_ready

pytestmark = pytest.mark.e2e

KEY = "chaos-key"
HEADERS = {"api-key": KEY}
VERSION = "?api-version=2023-06-01-preview"
SUBMIT = "/openai/images/generations:submit" + VERSION
OPERATIONS = 300
TTL_S = 60
LEASE_S = 2.0

CONFIG = """
[server]
lease_s = {lease_s}

[deployments.dall-e-2]
profile = "dall-e-2"
engine = "tests.engines_for_tests:RecordingEngine"

[deployments.dall-e-2.options]
record = "{record}"
delay_s = 0.2
max_batch_images = 2
"""


class Chaos:
    def __init__(self, tmp: Path, database: str, storage: str, env: dict[str, str]) -> None:
        self.tmp = tmp
        self.database = database
        self.storage = storage
        self.env = env
        self.record = tmp / "runs.log"
        self.config = tmp / "chaos.toml"
        self.config.write_text(CONFIG.format(lease_s=LEASE_S, record=self.record))
        self.apis: list[RunningServer] = []
        self.workers: list[RunningWorker] = []
        self.worker_ports: dict[int, int] = {}

    # -- processes ------------------------------------------------------------------------

    def api(self, index: int, port: int | None = None) -> RunningServer:
        data = self.tmp / f"api-{index}"
        data.mkdir(mode=0o700, exist_ok=True)
        first = self.tmp / "api-0" / "link-secret.key"
        if index > 0 and first.exists():  # every API node signs and checks links with one secret
            shutil.copy2(first, data / "link-secret.key")
        args = ["--no-workers", "--database", self.database, "--storage", self.storage]
        args += ["--config", str(self.config)]
        env = {
            **self.env,
            "GOUACHE_API_KEYS": KEY,
            "GOUACHE_OPERATION_TTL_S": str(TTL_S),
            "GOUACHE_SWEEP_INTERVAL_S": "1",
            "GOUACHE_QUEUE_MAX": "1000",
        }
        server = launch(data, port=port, config=None, env=env, args=args)
        wait_ready(server)
        return server

    def worker(self) -> RunningWorker:
        port = free_port()
        args = ["--database", self.database, "--storage", self.storage]
        args += ["--config", str(self.config), "--metrics-port", str(port)]
        args += ["--data-dir", str(self.tmp / "worker-data")]
        worker = launch_worker(args, env=self.env, log_path=self.tmp / f"worker-{port}.log")
        self.workers.append(worker)
        self.worker_ports[worker.pid] = port
        return worker

    def stop_all(self) -> None:
        for worker in self.workers:
            stop_worker(worker)
        for server in self.apis:
            stop(server)

    # -- observation ------------------------------------------------------------------------

    def inside_an_operation(self, worker: RunningWorker) -> bool:
        """Whether the worker's last recorded line is the start of a batch."""
        mine = [word for word, pid, _ in runs(self.record) if pid == worker.pid]
        return bool(mine) and mine[-1] == "start"

    def kill_inside_an_operation(self, worker: RunningWorker, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.inside_an_operation(worker):
                worker.kill()
                return
            time.sleep(0.005)
        raise AssertionError("the worker never started an operation")


def _submit_all(chaos: Chaos, accepted: dict[str, str], refused: list[str]) -> None:
    """Alternate between the API nodes; a node that is down is skipped as a load balancer
    would, so each operation is accepted by exactly one node or by none."""
    for index in range(OPERATIONS):
        prompt = f"chaos {index:03d}"
        body = {"prompt": prompt, "size": "256x256", "n": 1 + index % 2}
        for attempt in range(2):
            server = chaos.apis[(index + attempt) % 2]
            try:
                response = httpx.post(server.url + SUBMIT, json=body, headers=HEADERS, timeout=30)
            except httpx.TransportError:
                continue
            if response.status_code == 202:
                accepted[response.json()["id"]] = prompt
                break
        else:
            refused.append(prompt)


def test_chaos(tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch):
    with azurite(tmp_path / "azurite") as blob:
        container = f"chaos{uuid.uuid4().hex[:8]}"
        create_container(blob, container)
        storage = f"az://{container}/gouache"
        env = azurite_env(blob)
        chaos = Chaos(tmp_path, postgres_url, storage, env)
        try:
            chaos.apis.append(chaos.api(0))
            chaos.apis.append(chaos.api(1))
            first = [chaos.worker() for _ in range(3)]
            for worker in first:
                wait_worker_ready(worker, chaos.worker_ports[worker.pid])

            accepted: dict[str, str] = {}
            refused: list[str] = []
            submitter = threading.Thread(target=_submit_all, args=(chaos, accepted, refused))
            submitter.start()

            # fault 1: a worker killed mid-operation, restarted at once (its successor on this
            # host ends the dead process's leases at start)
            chaos.kill_inside_an_operation(first[0])
            chaos.worker()
            # fault 2: another killed mid-operation and an API node killed; both come back only
            # after the lease has lapsed, so the surviving workers take the operation over
            chaos.kill_inside_an_operation(first[1])
            port = chaos.apis[1].port
            chaos.apis[1].kill()
            time.sleep(LEASE_S * 1.5)  # sequencing: leave the lease time to lapse
            chaos.apis[1] = chaos.api(1, port=port)
            chaos.worker()
            submitter.join(300)
            assert not submitter.is_alive()
            assert len(accepted) + len(refused) == OPERATIONS
            assert len(accepted) >= OPERATIONS - 5, refused  # only those sent while B was down

            # every accepted operation ends succeeded, with one attempt's images
            api_a, api_b = chaos.apis
            results: dict[str, dict] = {}
            deadline = time.monotonic() + 120
            pending = set(accepted)
            while pending and time.monotonic() < deadline:
                for operation_id in list(pending):
                    url = f"{api_a.url}/openai/operations/images/{operation_id}{VERSION}"
                    body = httpx.get(url, headers=HEADERS, timeout=30).json()
                    assert body["status"] in ("notRunning", "running", "succeeded"), body
                    if body["status"] == "succeeded":
                        results[operation_id] = body
                        pending.discard(operation_id)
                time.sleep(0.2)
            assert not pending, f"{len(pending)} operations never finished"

            recorded = runs(chaos.record)
            killed = {first[0].pid, first[1].pid}
            interrupted = {
                prompt
                for word, pid, prompt in recorded
                if word == "start" and pid in killed and ("end", pid, prompt) not in recorded
            }
            assert interrupted, "no worker was killed inside an operation"
            ends = Counter(prompt for word, _, prompt in recorded if word == "end")
            for prompt in interrupted:
                assert ends[prompt] >= 1, f"{prompt} was interrupted and never ran again"

            with httpx.Client(timeout=30) as http:
                for operation_id, body in results.items():
                    data = body["result"]["data"]
                    index = int(accepted[operation_id].split()[1])
                    assert len(data) == 1 + index % 2
                    names = [urlsplit(item["url"]).path.rsplit("/", 1)[1] for item in data]
                    attempts = {name.split("-")[0] if "-" in name else "1" for name in names}
                    assert len(attempts) == 1, names  # one consistent set of images
                    for item in data:
                        parts = urlsplit(item["url"])
                        tail = parts.path + "?" + parts.query
                        from_a = http.get(api_a.url + tail)
                        from_b = http.get(api_b.url + tail)
                        assert from_a.status_code == from_b.status_code == 200
                        assert from_a.content == from_b.content
                        assert from_a.content[:8] == b"\x89PNG\r\n\x1a\n"

            # after expiry the sweeper (on one API node) removes every object, orphans included
            for name, value in env.items():
                monkeypatch.setenv(name, value)
            store = from_url(storage, default_folder=tmp_path / "unused")
            deadline = time.monotonic() + TTL_S + 90
            while store.operation_ids() and time.monotonic() < deadline:
                time.sleep(1)
            assert store.operation_ids() == []
        finally:
            chaos.stop_all()
