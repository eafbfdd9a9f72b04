"""The PostgreSQL server goes away and comes back: a throwaway cluster of our own, stopped with
`pg_ctl -m immediate` (as a crash or a lost database host) and started again on the same port.

While it is down, submits answer 503 with retry-after and a message that names no host or
password, health checks keep answering, polls of finished operations are still served from memory,
and the workers back off instead of dying. Once it is back, everything resumes with no restart."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gouache.config import Deployment
from gouache.profiles import PROFILES
from tests.conftest import ASYNC, instant, make_client
from tests.postgres import ThrowawayCluster, find_bindir, libpq_url, unavailable

SMALL = {"prompt": "a kite", "size": "256x256"}


@pytest.fixture
def own_server() -> Iterator[tuple[ThrowawayCluster, str]]:
    import psycopg

    bindir = find_bindir()
    if bindir is None:
        unavailable("no initdb under /usr/lib/postgresql/*/bin to start a server of our own")
    cluster = ThrowawayCluster(bindir)
    try:
        cluster.start()
    except (RuntimeError, OSError) as exc:
        unavailable(f"a throwaway PostgreSQL cluster failed to start: {exc}")
    try:
        with psycopg.connect(libpq_url(cluster.url), autocommit=True) as admin:
            admin.execute('CREATE DATABASE "gouache"')
        yield cluster, libpq_url(cluster.url, "gouache")
    finally:
        with contextlib.suppress(RuntimeError):
            cluster.stop()


def _until(check, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition never held")


def test_the_database_server_going_away_and_coming_back(tmp_path: Path, own_server):
    cluster, url = own_server
    deployments = {"dall-e-2": instant("dall-e-2", delay_s=0.02)}
    with make_client(
        tmp_path, deployments=deployments, database=url, store_busy_timeout_s=1
    ) as client:
        done = client.post(ASYNC, json=SMALL).headers["operation-location"]
        _until(lambda: client.get(done).json()["status"] == "succeeded")

        cluster.halt()
        refused = client.post(ASYNC, json=SMALL)
        assert refused.status_code == 503, refused.text
        assert int(refused.headers["retry-after"]) >= 1
        error = refused.json()["error"]
        assert error["code"] == "storeUnavailable"
        assert "cannot be reached" in error["message"]
        assert str(cluster.port) not in error["message"] and "postgres" not in error["message"]
        assert client.get("/healthz").status_code == 200
        assert client.get(done).json()["status"] == "succeeded"  # finished: from memory
        degraded = _until(
            lambda: (body := client.get("/readyz").json())["status"] == "degraded" and body
        )
        assert "cannot be reached" in degraded["faults"]["dall-e-2"]["reason"]

        cluster.resume()
        again = _until(lambda: (r := client.post(ASYNC, json=SMALL)).status_code == 202 and r)
        location = again.headers["operation-location"]
        _until(lambda: client.get(location).json()["status"] == "succeeded")
        _until(lambda: client.get("/readyz").json()["status"] == "ready")


def test_an_outage_longer_than_a_lease_repeats_work_never_the_result(tmp_path: Path, own_server):
    """The database goes away while an engine draws and stays away well past the lease: the
    worker can neither renew its claim nor record its result meanwhile. When the database is back,
    the claim is lapsed but still the worker's: usually its next heartbeat or its retried write
    gets there first and the result is recorded once; if another node claims the operation
    first, the work is repeated and the late write is refused (its images removed), as the
    frozen-worker test in test_e2e_cluster.py shows. Either way: one result, and only its
    images in storage."""
    cluster, url = own_server
    record = tmp_path / "runs.log"
    deployments = {
        "dall-e-2": Deployment(
            name="dall-e-2",
            profile=PROFILES["dall-e-2"],
            engine="tests.engines_for_tests:RecordingEngine",
            options={"record": str(record), "delay_s": 1.5},
        )
    }
    settings = {
        "deployments": deployments,
        "database": url,
        "storage": str(tmp_path / "images"),
        "store_busy_timeout_s": 1,
        "lease_s": 1.0,
    }
    # two nodes with workers on one database and one image folder (and one link secret)
    with (
        make_client(tmp_path / "data", **settings) as node_a,
        make_client(tmp_path / "data", **settings) as node_b,
    ):
        location = node_a.post(ASYNC, json={**SMALL, "prompt": "outage", "n": 2}).headers[
            "operation-location"
        ]
        _until(lambda: record.exists() and "start" in record.read_text())
        cluster.halt()
        time.sleep(4.0)  # the engine finishes meanwhile; the 1 s lease lapses several times over
        cluster.resume()

        body = _until(
            lambda: (b := node_b.get(location).json())["status"] in ("succeeded", "failed") and b
        )
        assert body["status"] == "succeeded", body
        operation_id = body["id"]
        urls = [item["url"] for item in body["result"]["data"]]
        assert len(urls) == 2
        names = {url.split("?")[0].rsplit("/", 1)[1] for url in urls}
        for node in (node_a, node_b):
            assert node.get(location).json() == body
            for link in urls:
                image = node.get(link)
                assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
        runs = [line for line in record.read_text().splitlines() if line.startswith("start ")]
        assert 1 <= len(runs) <= 2, runs
        # only the recorded result's images remain once the losing attempt (if any) cleaned up
        folder = tmp_path / "images" / operation_id
        _until(lambda: {path.name for path in folder.iterdir()} == names, timeout=30)
