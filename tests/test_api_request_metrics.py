"""Request metrics have a closed label set: invented methods and paths make no new series."""

from __future__ import annotations


def _request_series(client) -> list[str]:
    text = client.get("/metrics").text
    return [line for line in text.splitlines() if line.startswith("gouache_requests_total{")]


def test_invented_methods_and_paths_add_no_series(client):
    client.get("/healthz")
    client.get("/nothing/here")
    before = len(_request_series(client))
    for index in range(300):
        client.request(f"M{index:05d}X", "/healthz")
        client.get(f"/invented/{index}")
        client.get(f"/openai/operations/images/{index}?api-version=2023-06-01-preview")
    series = _request_series(client)
    assert not any("M0" in line for line in series), series
    assert not any("/invented" in line for line in series), series
    # other/405 on /healthz, the operation route's 404, and /metrics itself
    assert len(series) <= before + 3, series
    assert any('method="other"' in line and 'status="405"' in line for line in series)
