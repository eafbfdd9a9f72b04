"""The fast api-version lookup reads exactly what Starlette's full query parser would."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from starlette.datastructures import QueryParams

from gouache.api.versions import query_version

PIECES = st.sampled_from(
    [
        "api-version",
        "api-version=",
        "api%2Dversion",
        "api-versio",
        "x",
        "=",
        "&",
        "%",
        "+",
        "%20",
        "%E9",
        "2023-06-01-preview",
        "a=b",
        ";",
        "é",
        "=1",
        "api-version=a+b",
        "api-version=%41",
    ]
)


@given(st.lists(PIECES, max_size=8).map("".join))
def test_query_version_agrees_with_starlette(query: str):
    raw = query.encode("utf-8")
    assert query_version(raw) == QueryParams(raw).get("api-version")


def test_common_forms():
    assert query_version(b"api-version=2023-06-01-preview") == "2023-06-01-preview"
    assert query_version(b"") is None
    assert query_version(b"api-version=1&api-version=2") == "2"
    assert query_version(b"api-version=2024%2D10%2D21") == "2024-10-21"
