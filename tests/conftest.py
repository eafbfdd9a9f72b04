"""Shared fixtures: an in-process app over a real SQLite file, and image helpers."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from starlette.testclient import TestClient

from gouache.api import create_app
from gouache.config import Deployment, default_deployments
from gouache.profiles import PROFILES
from gouache.settings import load_settings

# PostgreSQL fixtures (postgres_url, database_url over both backends): see tests/postgres.py
pytest_plugins = ["tests.postgres"]

ASYNC = "/openai/images/generations:submit?api-version=2023-06-01-preview"


def make_client(
    data_dir: Path,
    *,
    deployments: dict[str, Deployment] | None = None,
    **settings: Any,
) -> TestClient:
    # the test client's default Host is "testserver", which a real server would refuse
    values = {
        "data_dir": data_dir,
        "sweep_interval_s": 3600,
        "allowed_hosts": ("testserver",),
        **settings,
    }
    app = create_app(
        load_settings(overrides=values, environ={}),
        deployments or default_deployments("instant"),
    )
    return TestClient(app, base_url="http://testserver")


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with make_client(tmp_path / "data") as test_client:
        yield test_client


def instant(name: str, profile: str = "dall-e-2", **options: Any) -> Deployment:
    return Deployment(name=name, profile=PROFILES[profile], engine="instant", options=options)


def png_bytes(picture: Image.Image) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def png_size(data: bytes) -> tuple[int, int]:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return image.size
