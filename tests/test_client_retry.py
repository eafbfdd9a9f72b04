"""Backoff and retry-after parsing (`gouache.client.retry`)."""

from __future__ import annotations

import random
from email.utils import formatdate

import httpx
import pytest

from gouache.client.retry import RetryPolicy, parse_retry_after


def test_retryable_statuses():
    assert [code for code in (400, 401, 404, 409, 429, 500, 502, 503) if RetryPolicy.retryable_status(code)] == [429, 500, 502, 503]  # fmt: skip
    assert RetryPolicy.retryable_exception(httpx.ConnectError("refused"))
    assert RetryPolicy.retryable_exception(httpx.ReadTimeout("slow"))
    assert not RetryPolicy.retryable_exception(ValueError("bug"))


def test_backoff_grows_with_jitter_and_is_capped():
    policy = RetryPolicy(base_s=1.0, cap_s=5.0, rng=random.Random(7))
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (9, 5.0)]:
        delays = [policy.delay(attempt) for _ in range(200)]
        assert all(0.1 * ceiling <= d <= ceiling for d in delays)
        assert max(delays) - min(delays) > 0.5 * ceiling  # jittered, not one fixed value


def test_server_retry_after_wins_but_is_capped():
    policy = RetryPolicy(max_retry_after_s=60)
    assert policy.delay(1, retry_after=7) == 7
    assert policy.delay(3, retry_after=0) == 0
    assert policy.delay(1, retry_after=3600) == 60


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after-ms": "250", "retry-after": "3"}, 0.25),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "-4"}, 0.0),
    ],
)
def test_parse_retry_after(headers, expected):
    assert parse_retry_after(httpx.Headers(headers)) == expected


def test_parse_retry_after_http_date():
    now = 1_700_000_000.0
    headers = httpx.Headers({"retry-after": formatdate(now + 30, usegmt=True)})
    assert parse_retry_after(headers, now=now) == pytest.approx(30, abs=1)
