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
