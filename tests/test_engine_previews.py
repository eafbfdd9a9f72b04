"""The engine contract's previews and capability checks, as a caller such as the job layer uses them.

`run_batch` is driven with small real engines: the instant engine, the test engines the service
loads in other tests (which predate previews and take `generate(requests)` only), and an engine
defined here that sends one preview per image.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import pytest
from PIL import Image

from gouache.engines.base import (
    GeneratedImage,
    ImageRequest,
    Preview,
    PreviewSink,
    preview_steps,
)
from gouache.engines.instant import InstantEngine
from gouache.errors import ContentFiltered, InvalidRequest
from tests.engines_for_tests import FailingEngine


class SketchingEngine(InstantEngine):
    """Edits nothing, previews everything: a grey sketch per image before its flat colour."""

    supports_previews = True

    def generate(
        self, requests: Sequence[ImageRequest], previews: PreviewSink | None = None
    ) -> list[list[GeneratedImage]]:
        for position, request in enumerate(requests):
            for index in range(request.n):
                if previews is not None and request.partial_images:
                    sketch = Image.new("RGB", (request.width, request.height), (128, 128, 128))
                    previews(Preview(position, index, 0, 0.5, sketch))
        return super().generate(requests)


def _request(**fields) -> ImageRequest:
    values = {"prompt": "a cat", "n": 1, "size": "32x32", "seed": 1}
    values.update(fields)
    return ImageRequest(**values)


def _png(size: tuple[int, int] = (32, 32)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "white").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("total", "partial", "expected"),
    [
        (4, 1, [2]),
        (4, 3, [1, 2, 3]),
        (9, 2, [3, 6]),
        (3, 3, [1, 2]),  # fewer steps than previews: each step between first and last once
        (1, 3, []),  # a one-step model has nothing in between to show
        (8, 0, []),
    ],
)
def test_preview_steps_are_evenly_spaced_and_never_the_last(
    total: int, partial: int, expected: list[int]
) -> None:
    assert preview_steps(total, partial) == expected


def test_previews_reach_the_caller_numbered_in_its_batch() -> None:
    engine = SketchingEngine()
    got: list[Preview] = []
    batch = [
        _request(operation="edit", images=(_png(),)),  # refused: this engine cannot edit
        _request(n=2, partial_images=1),
        _request(seed=9),  # asked for no previews
        _request(operation="variation", images=(_png(),), partial_images=2),  # refused
        _request(seed=4, partial_images=3),
    ]
    results = engine.run_batch(batch, got.append)
    assert isinstance(results[0], InvalidRequest) and results[0].param == "image"
    assert isinstance(results[3], InvalidRequest) and "variations" in results[3].message
    assert [len(r) for r in (results[1], results[2], results[4])] == [2, 1, 1]
    # The engine saw three requests; the caller sent five: previews name the caller's positions.
    assert [(p.request_index, p.image_index) for p in got] == [(1, 0), (1, 1), (4, 0)]
    data = got[0].encode("png")
    assert Image.open(io.BytesIO(data)).size == (32, 32)


def test_engines_written_before_previews_still_run() -> None:
    """FailingEngine overrides generate(requests) with no previews argument: run_batch must not
    pass one, and its per-request refusals still come back in place."""
    engine = FailingEngine()
    got: list[Preview] = []
    drawn, refused = engine.run_batch(
        [_request(partial_images=2), _request(prompt="something forbidden")], got.append
    )
    assert isinstance(drawn, list) and len(drawn) == 1
    assert isinstance(refused, ContentFiltered)
    assert got == []


def test_a_batch_of_only_refused_requests_does_not_call_the_engine() -> None:
    class Exploding(InstantEngine):
        def generate(self, requests):
            raise AssertionError("generate must not be called")

    [refused] = Exploding().run_batch([_request(operation="edit", images=(_png(),))])
    assert isinstance(refused, InvalidRequest)


def test_edits_never_share_a_batch_with_generations() -> None:
    engine = InstantEngine()
    assert engine.batch_key(_request()) != engine.batch_key(
        _request(operation="edit", images=(_png(),))
    )


def test_stored_operations_may_carry_null_partial_images() -> None:
    assert _request(partial_images=None).partial_images == 0
