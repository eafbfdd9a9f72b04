"""The poll of a finished operation, answered in one step.

Clients poll `GET /openai/operations/images/{id}` in a loop, often many at once, and most polls
that matter end on a finished operation held in memory (`jobs/cache.py`). Through the full stack
such a poll crossed Starlette's exception layer, its router, a `Request`, the route, a
`JSONResponse` and two `send` wrappers; at thousands of polls a second on one core that cost more
than the answer itself. Here the request guards (`guards.py`) hand the poll to `FinishedPolls`
first, which answers it directly when, and only when, the full route would answer 200 with the
same bytes:

- the path is exactly the route's, with no `root_path` in play;
- the api-version is one the operation API serves;
- a key is presented that names the operation's tenant (or the server takes no keys);
- the operation is in the finished cache and its answer needs no storage read (links, not
  `b64_json`).

Anything else (a missing key, an unknown version, an operation not in the cache, still running,
or with inline images) goes down the full route, which is what decides every error and its wording.
`tests/test_api_polls.py` holds the two paths to the same answers.
"""

from __future__ import annotations

import json

from starlette.types import Scope

from gouache.api.auth import KeyChecker
from gouache.api.browser import SecurityHeaders
from gouache.api.versions import ASYNC_VERSIONS, query_version
from gouache.api.wire import WireFormatter, needs_image_bytes
from gouache.jobs.cache import FinishedCache
from gouache.jobs.store import Operation

PREFIX = "/openai/operations/images/"
# the route template the request counter files these polls under, as the full route would
TEMPLATE = "/openai/operations/images/{operation_id}"
_VERSIONS = frozenset(ASYNC_VERSIONS)
RENDERED_ENTRIES = 4096
MAX_CACHED_BASE = 256

Header = tuple[bytes, bytes]


class FinishedPolls:
    """Answers to polls of finished operations, each rendered once per place it is reached from
    (the Host it was asked through) and link expiry, then kept beside the finished cache."""

    def __init__(
        self,
        cache: FinishedCache | None,
        keys: KeyChecker,
        wire: WireFormatter,
        security: SecurityHeaders,
        entries: int = RENDERED_ENTRIES,
    ) -> None:
        self.cache = cache
        self.keys = keys
        self.wire = wire
        self.entries = entries
        self._headers = ((b"content-type", b"application/json"), *security.api)
        # (operation id, base URL) -> (link expiry, body, headers); served only while the
        # operation is still in the finished cache, which is what every deletion reaches
        self._rendered: dict[tuple[str, str], tuple[int, bytes, list[Header]]] = {}

    def answer(self, scope: Scope, host: bytes | None) -> tuple[bytes, list[Header]] | None:
        """The body and headers of a 200 answer to this poll, or None where the full route must
        answer. `host` is the request's Host header (already checked by the guards), None if
        absent."""
        cache = self.cache
        path = scope["path"]
        if (
            cache is None
            or scope["method"] != "GET"
            or not path.startswith(PREFIX)
            or scope.get("root_path")
        ):
            return None
        operation_id = path[len(PREFIX) :]
        if not operation_id or "/" in operation_id:
            return None
        operation = cache.get(operation_id)
        if operation is None or needs_image_bytes(operation):
            return None
        if query_version(scope["query_string"]) not in _VERSIONS:
            return None
        if self.keys.tenant_of(scope["headers"]) != operation.tenant:
            return None
        base = self.wire.scope_base_url(scope, None if host is None else host.decode("latin-1"))
        expiry = self.wire.link_expiry(operation)
        key = (operation_id, base)
        rendered = self._rendered.get(key)
        if rendered is None or rendered[0] != expiry:
            rendered = self._render(key, operation, base, expiry)
        return rendered[1], rendered[2]

    def _render(
        self, key: tuple[str, str], operation: Operation, base: str, expiry: int
    ) -> tuple[int, bytes, list[Header]]:
        body = self.wire.operation_with_links(base, operation, expiry)
        # as Starlette's JSONResponse renders it
        data = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
        headers = [(b"content-length", str(len(data)).encode()), *self._headers]
        if len(base) > MAX_CACHED_BASE:
            return expiry, data, headers  # an outlandish Host (servers that accept any) is not kept
        if len(self._rendered) >= self.entries:
            self._rendered.clear()  # bounded; the busy operations render again on their next poll
        rendered = self._rendered[key] = (expiry, data, headers)
        return rendered
