"""Prometheus metrics of one gouache process, kept in their own registry (no global state, so
several apps can live in one test process)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# `*_created` series double the output and no dashboard of ours reads them.
disable_created_metrics()


class _StoreCollector(Collector):
    """Queued and running operations and the queue depth, read from the store at scrape time so
    they are right even after a restart or with several API nodes. Finished operations are counted
    by `gouache_operations_finished` instead: counting them in the store would cost a scan of the
    whole history on every scrape."""

    def __init__(self, counts: Callable[[], dict[str, int]]) -> None:
        self._counts = counts

    def collect(self) -> Iterable[Metric]:
        counts = self._counts()
        by_status = GaugeMetricFamily(
            "gouache_operations", "Unfinished operations in the store by status", labels=["status"]
        )
        for status, count in sorted(counts.items()):
            by_status.add_metric([status], count)
        yield by_status
        depth = counts.get("notRunning", 0)
        yield GaugeMetricFamily(
            "gouache_queue_depth", "Operations waiting for a worker", value=depth
        )


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "gouache_requests",
            "HTTP requests by route, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.generation_seconds = Histogram(
            "gouache_generation_seconds",
            "Seconds an engine spent on one batch",
            ["deployment"],
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
            registry=self.registry,
        )
        self.batches = Counter(
            "gouache_batches", "Engine calls by deployment", ["deployment"], registry=self.registry
        )
        self.batch_images = Histogram(
            "gouache_batch_images",
            "Images per engine call",
            ["deployment"],
            buckets=(1, 2, 4, 8, 16, 32, 64),
            registry=self.registry,
        )
        self.operations_finished = Counter(
            "gouache_operations_finished",
            "Operations that reached an end state, by deployment and status",
            ["deployment", "status"],
            registry=self.registry,
        )

    def watch_store(self, counts: Callable[[], dict[str, int]]) -> None:
        self.registry.register(_StoreCollector(counts))

    def render(self) -> bytes:
        return generate_latest(self.registry)
