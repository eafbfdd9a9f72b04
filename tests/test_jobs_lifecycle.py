"""Start-up, shutdown and housekeeping of the job layer over real files and processes: removed
deployments, 0.1 databases, leftover images, private files, one worker process per data dir,
retry-after from measured throughput, and a usage report that cannot be forged."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

import gouache.jobs.service as service_module
from gouache.errors import ConfigError
from gouache.jobs.store import OperationStore
from tests.conftest import ASYNC, instant, make_client
from tests.server import launch, wait_ready
from tests.test_faults_database import _poll_until

SMALL = {"prompt": "a kite", "size": "256x256"}


def _queue(
    store: OperationStore,
    deployment: str,
    *,
    user: str | None = None,
    tenant: str = "",
    id: str | None = None,
):
    now = int(time.time())
    return store.insert(
        id=id or str(uuid.uuid4()),
        deployment=deployment,
        created=now,
        expires=now + 3600,
        user=user,
        n=1,
        size="256x256",
        prompt="p",
        params={"prompt": "p", "n": 1, "size": "256x256", "seed": 1},
        tenant=tenant,
    )


def test_operations_of_a_removed_deployment_fail_at_start_up_and_free_the_queue(tmp_path: Path):
    store = OperationStore(tmp_path / "gouache.db")
    stranded = [_queue(store, "gpt-image-1").id for _ in range(4)]
    store.close()
    deployments = {"dall-e-2": instant("dall-e-2")}
    with make_client(tmp_path, deployments=deployments, queue_max=4) as client:
        for operation_id in stranded:
            body = client.get(
                f"/openai/operations/images/{operation_id}?api-version=2023-06-01-preview"
            )
            assert body.json()["status"] == "failed"
            error = body.json()["error"]
            assert error["code"] == "DeploymentNotFound"
            assert "'gpt-image-1' was removed" in error["message"]
        assert client.post(ASYNC, json=SMALL).status_code == 202


def test_a_database_from_0_1_gains_the_tenant_column_and_keeps_its_operations(tmp_path: Path):
    database = tmp_path / "gouache.db"
    with sqlite3.connect(database) as old:
        old.executescript(
            """
            CREATE TABLE operations (
                id VARCHAR(36) PRIMARY KEY, deployment VARCHAR(128) NOT NULL,
                status VARCHAR(16) NOT NULL, created INTEGER NOT NULL, created_at FLOAT NOT NULL,
                expires INTEGER NOT NULL, finished_at FLOAT, user VARCHAR(512), n INTEGER NOT NULL,
                size VARCHAR(16) NOT NULL, prompt TEXT NOT NULL, params TEXT NOT NULL,
                result TEXT, error TEXT, attempts INTEGER NOT NULL, images INTEGER NOT NULL,
                worker VARCHAR(64));
            CREATE INDEX ix_operations_queue ON operations (status, deployment, created_at);
            CREATE INDEX ix_operations_expires ON operations (expires);
            CREATE INDEX ix_operations_user ON operations (user, created);
            """
        )
        old.execute(
            "INSERT INTO operations VALUES "
            "('11111111-1111-4111-8111-111111111111', 'dall-e-2', 'notRunning', 1, 1.0, "
            "9999999999, NULL, 'ann', 1, '256x256', 'p', "
            '\'{"prompt": "p", "n": 1, "size": "256x256", "seed": 1}\', NULL, NULL, 0, 0, NULL)'
        )
    with make_client(tmp_path) as client:
        location = "/openai/operations/images/11111111-1111-4111-8111-111111111111?api-version=2023-06-01-preview"
        assert _poll_until(client, location, {"succeeded"})["status"] == "succeeded"


def test_sweep_removes_images_of_deleted_and_unknown_operations(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(service_module, "UNKNOWN_FOLDER_GRACE_S", 0.0)
    with make_client(tmp_path) as client:
        service = client.app.state.ctx.service
        kept = _poll_until(
            client, client.post(ASYNC, json=SMALL).headers["operation-location"], {"succeeded"}
        )
        crashed = _poll_until(
            client, client.post(ASYNC, json=SMALL).headers["operation-location"], {"succeeded"}
        )
        # what 0.1 left when killed between committing the delete and removing the folder
        assert service.store.mark_deleted(crashed["id"])
        orphan = tmp_path / "images" / str(uuid.uuid4())
        orphan.mkdir()
        (orphan / "0.png").write_bytes(b"left by a crash")
        service.sweep(reconcile=True)
        assert not (tmp_path / "images" / crashed["id"]).exists()
        # no record at its first pass: it may be an edit's inputs written just before their
        # record, so it waits for a later pass (the background sweeper may be that pass)
        service.sweep(reconcile=True)
        assert not orphan.exists()
        assert (tmp_path / "images" / kept["id"] / "0.png").is_file()


def test_reconcile_keeps_inputs_whose_record_arrives_after_the_listing(tmp_path: Path):
    with make_client(tmp_path) as client:
        service = client.app.state.ctx.service
        early = str(uuid.uuid4())
        service.images.put_file(early, "input-0.png", b"an edit's input, record not yet written")
        service.sweep(reconcile=True)
        _queue(service.store, "none-such", id=early)
        service.sweep(reconcile=True)
        assert service.images.read(early, "input-0.png").startswith(b"an edit's input")


def test_expiry_is_batched_and_complete(tmp_path: Path):
    with make_client(tmp_path) as client:
        service = client.app.state.ctx.service
        now = int(time.time())
        ids = [_queue(service.store, "none-such").id for _ in range(1200)]
        claimed = service.store.claim("none-such", "w", limit=2000)
        for operation in claimed:
            service.store.fail(operation.id, "w", {"code": "x", "message": "y"})
        assert service.sweep(now=now + 7200) == len(ids)
        assert service.store.expired(now + 7200) == []


def test_data_dir_and_database_are_private(tmp_path: Path):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    with make_client(data) as client:
        _poll_until(
            client, client.post(ASYNC, json=SMALL).headers["operation-location"], {"succeeded"}
        )
        assert data.stat().st_mode & 0o777 == 0o700
        for name in ("gouache.db", "gouache.db-wal", "gouache.db-shm"):
            path = data / name
            if path.exists():
                assert path.stat().st_mode & 0o777 == 0o600, name


def test_workers_take_the_data_dir_lock_wherever_they_start(tmp_path: Path):
    data = tmp_path / "data"
    with make_client(data) as client:
        assert client.get("/healthz").status_code == 200
        # a second app in this process
        second = make_client(data)
        with pytest.raises(ConfigError, match="already using the data dir"), second:
            pass
        # and a real second process
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "gouache.cli.main",
                "serve",
                "--data-dir",
                str(data),
                "--port",
                "0",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env={k: v for k, v in os.environ.items() if not k.startswith("GOUACHE_")},
        )
        assert result.returncode == 2
        assert "already using the data dir" in result.stderr


def test_a_killed_server_frees_the_data_dir_for_the_next(tmp_path: Path):
    data = tmp_path / "data"
    server = launch(data)
    try:
        wait_ready(server)
        with pytest.raises(ConfigError, match="already using the data dir"), make_client(data):
            pass
    finally:
        server.kill()
    with make_client(data) as client:
        assert _poll_until(
            client, client.post(ASYNC, json=SMALL).headers["operation-location"], {"succeeded"}
        )


def test_retry_after_on_429_follows_queue_depth_and_throughput(tmp_path: Path):
    deployments = {"dall-e-2": instant("dall-e-2", delay_s=0.5)}
    with make_client(tmp_path, deployments=deployments, queue_max=6, retry_after_s=1) as client:
        # measure some throughput first: about two operations a second
        warm = [client.post(ASYNC, json=SMALL).headers["operation-location"] for _ in range(3)]
        for location in warm:
            _poll_until(client, location, {"succeeded"})
        for _ in range(6):
            assert client.post(ASYNC, json=SMALL).status_code == 202
        busy = client.post(ASYNC, json=SMALL)
        assert busy.status_code == 429
        # six queued at about two a second: about three seconds, never the flat one second
        assert 2 <= int(busy.headers["retry-after"]) <= 60
        assert (
            f"retry after {busy.headers['retry-after']} seconds" in busy.json()["error"]["message"]
        )


FORGED = "bob\nfake-user  999  999  999  0\x1b[31m"


def test_usage_table_escapes_control_characters_and_json_stays_exact(tmp_path: Path):
    store = OperationStore(tmp_path / "gouache.db")
    _queue(store, "dall-e-2", user=FORGED, tenant="alice")
    _queue(store, "dall-e-2", user="carol", tenant="key-1a2b3c4d")
    store.close()
    command = [sys.executable, "-m", "gouache.cli.main", "usage", "--data-dir", str(tmp_path)]
    table = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    lines = table.strip().splitlines()
    assert len(lines) == 3, table  # the header and two rows: no forged third
    assert "\x1b" not in table
    assert "bob\\x0afake-user" in table and "\\x1b[31m" in table
    assert lines[0].split()[:2] == ["key", "user"]
    assert {line.split()[0] for line in lines[1:]} == {"alice", "key-1a2b3c4d"}
    rows = json.loads(
        subprocess.run(
            command + ["--format", "json"], capture_output=True, text=True, check=True
        ).stdout
    )
    assert {(row["key"], row["user"]) for row in rows} == {
        ("alice", FORGED),
        ("key-1a2b3c4d", "carol"),
    }
