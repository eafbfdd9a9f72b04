"""One built-in engine per process: every deployment and worker thread draws with the same
instance, loaded once, and pictures drawn from several threads at once are the pictures drawn
one at a time."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from gouache.config import Deployment, default_deployments
from gouache.engines import ImageRequest, create_engine
from gouache.jobs.runner import WorkerPool
from gouache.jobs.store import OperationStore
from gouache.metrics import Metrics
from gouache.profiles import DALL_E_2
from gouache.storage import LocalImageStore


def test_builtin_is_one_instance_per_set_of_options():
    first, second = create_engine("builtin"), create_engine("builtin")
    assert first is second
    batched = create_engine("builtin", {"max_batch_images": 4})
    assert batched is not first and batched.max_batch_images == 4
    assert create_engine("builtin", {"max_batch_images": 4}) is batched


def test_engines_that_do_not_declare_themselves_shared_get_one_instance_each():
    assert create_engine("instant") is not create_engine("instant")


def test_default_deployments_and_their_workers_share_one_builtin_engine(tmp_path):
    deployments = default_deployments()
    deployments["dall-e-2"] = Deployment(
        name="dall-e-2", profile=DALL_E_2, engine="builtin", workers=2
    )
    store = OperationStore(tmp_path / "gouache.db")
    pool = WorkerPool(store, LocalImageStore(tmp_path / "images"), deployments, Metrics())
    pool.start()
    try:
        deadline = time.monotonic() + 120
        while not pool.ready and pool.failure is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert pool.ready, pool.failure
        engines = [engine for workers in pool.engines.values() for engine in workers]
        assert len(engines) == 4  # one per worker thread: 2 + 1 + 1
        assert len({id(engine) for engine in engines}) == 1
    finally:
        pool.stop()
        store.close()
    # the workers closed their handle on it; the shared engine still draws
    again = create_engine("builtin").generate([ImageRequest("a kite", 1, "256x256", seed=1)])
    assert again[0][0].data.startswith(b"\x89PNG")


def test_drawing_from_many_threads_at_once_gives_the_same_pictures():
    engine = create_engine("builtin")
    requests = [
        ImageRequest(prompt, n=2, size="256x256", seed=seed, output_format=fmt)
        for seed, (prompt, fmt) in enumerate(
            [
                ("a red running shoe on a white background", "png"),
                ("three hot air balloons over the mountains", "png"),
                ("a cat next to a dog in a forest at sunset", "jpeg"),
                ("a rocket in space, neon style", "png"),
                ("a slide background in navy, gold and white", "webp"),
                ("a bar chart going up", "png"),
            ]
        )
    ]
    one_at_a_time = [engine.generate([request])[0] for request in requests]
    start = threading.Barrier(len(requests))

    def draw(request: ImageRequest):
        start.wait()
        return engine.generate([request])[0]

    with ThreadPoolExecutor(len(requests)) as threads:
        together = list(threads.map(draw, requests))
    for alone, at_once in zip(one_at_a_time, together, strict=True):
        assert [image.data for image in at_once] == [image.data for image in alone]
        assert [image.revised_prompt for image in at_once] == [i.revised_prompt for i in alone]
