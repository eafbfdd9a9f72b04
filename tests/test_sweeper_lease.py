"""The expiry sweeper runs on one API node at a time: the node holding the `sweeper` lease. When
that node stops, it gives the lease up and another node sweeps."""

from __future__ import annotations

import time
from pathlib import Path

from tests.conftest import ASYNC, make_client


def _succeeded(client, count: int) -> list[str]:
    paths = [
        client.post(ASYNC, json={"prompt": f"kite {i}", "size": "256x256"})
        .headers["operation-location"]
        .removeprefix("http://testserver")
        for i in range(count)
    ]
    deadline = time.monotonic() + 30
    for path in paths:
        while client.get(path).json()["status"] != "succeeded" and time.monotonic() < deadline:
            time.sleep(0.02)
    return paths


def test_one_node_sweeps_and_another_takes_over_when_it_stops(tmp_path: Path, database_url: str):
    later = int(time.time()) + 10 * 86400  # every operation has expired by then
    with make_client(tmp_path / "b", database=database_url) as node_b:
        with make_client(tmp_path / "a", database=database_url) as node_a:
            service_a = node_a.app.state.ctx.service
            service_b = node_b.app.state.ctx.service
            paths = _succeeded(node_a, 3)
            # node b started first and swept at start: it holds the lease, node a may not sweep
            assert service_a.sweep(now=later) == 0
            assert {node_a.get(p).json()["status"] for p in paths} == {"succeeded"}
            assert service_b.sweep(now=later) == 3
            assert {node_a.get(p).json()["status"] for p in paths} == {"deleted"}
            more = _succeeded(node_a, 2)
        # node a stopped; node b still holds the lease
        assert service_b.sweep(now=later) == 2
        assert {node_b.get(p).json()["status"] for p in more} == {"deleted"}


def test_a_stopping_node_hands_the_sweeper_lease_over(tmp_path: Path, database_url: str):
    later = int(time.time()) + 10 * 86400
    node_a_context = make_client(tmp_path / "a", database=database_url)
    node_a = node_a_context.__enter__()
    try:
        with make_client(tmp_path / "b", database=database_url) as node_b:
            service_b = node_b.app.state.ctx.service
            paths = _succeeded(node_b, 2)
            assert service_b.sweep(now=later) == 0  # node a holds the lease
            node_a_context.__exit__(None, None, None)  # node a shuts down cleanly
            node_a = None
            assert service_b.sweep(now=later) == 2  # at once, not after the lease runs out
            assert {node_b.get(p).json()["status"] for p in paths} == {"deleted"}
    finally:
        if node_a is not None:
            node_a_context.__exit__(None, None, None)
