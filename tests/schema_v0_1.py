"""The database gouache 0.1 wrote, frozen: its table exactly as `metadata.create_all` made it (no
version table), and operations as 0.1 stored them. Tests build a 0.1 database from this to check
that it upgrades in place; it must never change with the store."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Column, Float, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

operations = Table(
    "operations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("deployment", String(128), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires", Integer, nullable=False),
    Column("finished_at", Float),
    Column("user", String(512)),
    Column("n", Integer, nullable=False),
    Column("size", String(16), nullable=False),
    Column("prompt", Text, nullable=False),
    Column("params", Text, nullable=False),
    Column("result", Text),
    Column("error", Text),
    Column("attempts", Integer, nullable=False, default=0),
    Column("images", Integer, nullable=False, default=0),
    Column("worker", String(64)),
    Index("ix_operations_queue", "status", "deployment", "created_at"),
    Index("ix_operations_expires", "expires"),
    Index("ix_operations_user", "user", "created"),
)


def _row(id: str, status: str, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": id,
        "deployment": "dall-e-3",
        "status": status,
        "created": 1_790_000_000,
        "created_at": 1_790_000_000.25,
        "expires": 1_790_086_400,
        "finished_at": None,
        "user": "user-1",
        "n": 1,
        "size": "1024x1024",
        "prompt": "a lighthouse at dusk",
        "params": json.dumps({"quality": "standard", "style": "vivid"}),
        "result": None,
        "error": None,
        "attempts": 0,
        "images": 0,
        "worker": None,
    }
    row.update(values)
    return row


ROWS = [
    _row(
        "0b6c2f54-8f0e-4e43-9f1b-6d2b0d3c4a01",
        "succeeded",
        finished_at=1_790_000_004.5,
        n=2,
        images=2,
        attempts=1,
        worker="worker-0",
        result=json.dumps(
            {
                "created": 1_790_000_004,
                "data": [
                    {"url": "http://127.0.0.1:8000/images/0b6c/0.png?sig=abc"},
                    {"url": "http://127.0.0.1:8000/images/0b6c/1.png?sig=def"},
                ],
            }
        ),
    ),
    _row(
        "1c7d3e65-9a1f-4f54-8a2c-7e3c1e4d5b02",
        "failed",
        finished_at=1_790_000_002.0,
        attempts=3,
        prompt="un phare au crépuscule, 灯台 🌅",
        error=json.dumps({"code": "generationFailed", "message": "out of memory"}),
    ),
    _row("2d8e4f76-ab20-4065-9b3d-8f4d2f5e6c03", "notRunning", user=None, size="256x256"),
    _row("3e9f5087-bc31-4176-8c4e-905e306f7d04", "running", attempts=1, worker="worker-1"),
    _row("4fa06198-cd42-4287-9d5f-a16f41708e05", "deleted", expires=1_790_000_100),
]
