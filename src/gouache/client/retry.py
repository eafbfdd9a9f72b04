"""When and how long to wait before trying a request again.

Retried: 429, any 5xx, and network failures (connect, read, protocol errors). Never retried: other
4xx, which a second try would not change. The wait is the server's `retry-after-ms` / `retry-after`
when it sent one (capped), else an exponential backoff with full jitter, so many clients that failed
together do not come back together.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # httpx is imported only when a remote call is made
    import httpx


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4  # at most this many tries of one request, the first included
    base_s: float = 0.5  # backoff before try k+1 is drawn from [0, base_s * 2**(k-1)]
    cap_s: float = 20.0  # longest backoff we pick ourselves
    max_retry_after_s: float = 60.0  # longest server-requested wait we honour
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    @staticmethod
    def retryable_status(status_code: int) -> bool:
        return status_code == 429 or status_code >= 500

    @staticmethod
    def retryable_exception(exc: BaseException) -> bool:
        import httpx

        return isinstance(exc, httpx.TransportError)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed try number `attempt` (1-based)."""
        if retry_after is not None and retry_after >= 0:
            return min(retry_after, self.max_retry_after_s)
        ceiling = min(self.cap_s, self.base_s * 2 ** (attempt - 1))
        # "full jitter", but never less than a tenth of the ceiling, so a retry is never instant
        return ceiling * (0.1 + 0.9 * self.rng.random())


def parse_retry_after(headers: httpx.Headers, now: float | None = None) -> float | None:
    """`retry-after-ms`, else `retry-after` as seconds or an HTTP date; None when absent/invalid."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime  # rare: only HTTP-date retry-after values

    try:
        moment = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    now = time.time() if now is None else now
    return max(0.0, moment.timestamp() - now)
