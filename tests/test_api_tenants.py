"""Each API key is a tenant: another key's operations are 404 for reading and deleting, image
links stay bearer links, and keys can be named (or given as hashes) in the config."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from gouache.config import load_config
from gouache.errors import ConfigError
from gouache.settings import load_settings
from gouache.tenants import hashed_name
from tests.conftest import ASYNC, make_client

SMALL = {"prompt": "a kite", "size": "256x256", "user": "ann"}
VERSION = "?api-version=2023-06-01-preview"


def _finish(client, location: str, headers: dict[str, str]) -> dict:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        body = client.get(location, headers=headers).json()
        if body["status"] in ("succeeded", "failed"):
            return body
        time.sleep(0.02)
    raise AssertionError("operation did not finish")


def _keys_from_config(tmp_path: Path, text: str):
    path = tmp_path / "gouache.toml"
    path.write_text(text)
    return load_settings(load_config(path).server, environ={}).api_keys


@pytest.fixture
def two_tenants(tmp_path: Path, database_url: str):
    """Two keys on one server, once over a SQLite file and once over PostgreSQL."""
    digest = hashlib.sha256(b"key-of-bob").hexdigest()
    keys = _keys_from_config(
        tmp_path,
        f'[server.api_keys]\nalice = "key-of-alice"\nbob = "sha256:{digest}"\n',
    )
    with make_client(tmp_path / "data", api_keys=keys, database=database_url) as client:
        yield client


ALICE = {"api-key": "key-of-alice"}
BOB = {"authorization": "Bearer key-of-bob"}


def test_another_key_cannot_see_poll_or_delete(two_tenants):
    client = two_tenants
    submitted = client.post(ASYNC, json=SMALL, headers=ALICE)
    assert submitted.status_code == 202
    location = submitted.headers["operation-location"]
    operation = _finish(client, location, ALICE)
    assert operation["status"] == "succeeded"

    for method in ("get", "delete"):
        response = getattr(client, method)(location, headers=BOB)
        assert response.status_code == 404, response.text
        # word for word what an id that never existed gets: no hint that it exists
        never = getattr(client, method)(
            f"/openai/operations/images/{'0' * 8}-0000-4000-8000-{'0' * 12}{VERSION}",
            headers=BOB,
        )
        assert response.json()["error"]["code"] == never.json()["error"]["code"]
        assert response.json()["error"]["message"].replace(operation["id"], "ID") == never.json()[
            "error"
        ]["message"].replace(f"{'0' * 8}-0000-4000-8000-{'0' * 12}", "ID")

    # the image link is a bearer link: whoever holds it can fetch it, no key needed
    url = operation["result"]["data"][0]["url"]
    assert client.get(url).status_code == 200
    assert client.get(location, headers=ALICE).json()["status"] == "succeeded"
    assert client.delete(location, headers=ALICE).status_code == 204


def test_the_operation_records_its_key_name_for_usage(two_tenants):
    client = two_tenants
    for headers in (ALICE, BOB, BOB):
        location = client.post(ASYNC, json=SMALL, headers=headers).headers["operation-location"]
        _finish(client, location, headers)
    rows = {(row["key"], row["user"]): row for row in client.app.state.ctx.service.store.usage()}
    assert rows[("alice", "ann")]["operations"] == 1
    assert rows[("bob", "ann")]["operations"] == 2


def test_keys_from_the_environment_are_named_by_a_hash_prefix(tmp_path: Path):
    settings = load_settings(environ={"GOUACHE_API_KEYS": "first,second"})
    assert [key.name for key in settings.api_keys] == [hashed_name("first"), hashed_name("second")]
    assert hashed_name("first").startswith("key-") and "first" not in hashed_name("first")
    with make_client(tmp_path, api_keys="first,second") as client:
        location = client.post(ASYNC, json=SMALL, headers={"api-key": "first"}).headers[
            "operation-location"
        ]
        assert client.get(location, headers={"api-key": "second"}).status_code == 404
        assert client.get(location, headers={"api-key": "first"}).status_code == 200


def test_one_tenant_may_have_several_keys_to_rotate_them(tmp_path: Path):
    keys = _keys_from_config(tmp_path, '[server.api_keys]\nteam = ["old-key", "new-key"]\n')
    with make_client(tmp_path / "data", api_keys=keys) as client:
        location = client.post(ASYNC, json=SMALL, headers={"api-key": "old-key"}).headers[
            "operation-location"
        ]
        assert client.get(location, headers={"api-key": "new-key"}).status_code == 200


def test_without_keys_there_is_one_tenant(client):
    location = client.post(ASYNC, json=SMALL).headers["operation-location"]
    assert client.get(location).status_code == 200
    assert client.get(location, headers={"api-key": "anything"}).status_code == 200


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ('"bad name" = "k"', "key name 'bad name' is not allowed"),
        ('a = "sha256:abc"', "64 hex digits"),
        ('a = ""', "expected the key"),
        ('a = "same"\nb = "same"', "the same key is given twice"),
    ],
)
def test_bad_key_tables_are_refused_at_start_up(tmp_path: Path, table: str, words: str):
    with pytest.raises(ConfigError, match=words):
        _keys_from_config(tmp_path, f"[server.api_keys]\n{table}\n")
