"""Progress of running operations, kept in the store so that any API process can follow it.

Workers write one row per preview they make (`record`), next to the preview image in image storage;
API processes read them (`previews`) to stream partial images and progress to clients. Nothing
goes through process memory, so this works when the engine runs in another process or on another
machine. The table is declared here, on the store's metadata, and built by revision 0003.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Float, ForeignKey, Integer, String, Table, select
from sqlalchemy.engine import Engine as SqlEngine
from sqlalchemy.exc import IntegrityError

from gouache.jobs.store import Operation, guarded, metadata
from gouache.storage.base import preview_name

log = logging.getLogger("gouache.jobs")

operation_progress = Table(
    "operation_progress",
    metadata,
    Column(
        "operation_id",
        String(36),
        ForeignKey("operations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("image_index", Integer, primary_key=True),
    Column("partial_index", Integer, primary_key=True),
    Column("progress", Float, nullable=False),
    Column("name", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
)


@dataclass(frozen=True)
class PreviewRecord:
    """One preview of image `image_index`, the `partial_index`-th of that image, stored as
    `name` beside the operation's images, made when `progress` of the work was done."""

    image_index: int
    partial_index: int
    progress: float
    name: str
    created_at: float


class ProgressStore:
    def __init__(self, engine: SqlEngine) -> None:
        self.engine = engine

    @guarded
    def record(
        self, operation_id: str, image_index: int, partial_index: int, progress: float, name: str
    ) -> None:
        """Add a preview's row; a repeat of the same preview (a retried run) is ignored."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    operation_progress.insert().values(
                        operation_id=operation_id,
                        image_index=image_index,
                        partial_index=partial_index,
                        progress=progress,
                        name=name,
                        created_at=time.time(),
                    )
                )
        except IntegrityError:
            pass

    @guarded
    def previews(self, operation_id: str) -> list[PreviewRecord]:
        """The operation's previews in the order they were made."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(operation_progress)
                .where(operation_progress.c.operation_id == operation_id)
                .order_by(
                    operation_progress.c.created_at,
                    operation_progress.c.image_index,
                    operation_progress.c.partial_index,
                )
            ).all()
        return [
            PreviewRecord(
                row.image_index, row.partial_index, row.progress, row.name, row.created_at
            )
            for row in rows
        ]


def preview_sink(
    operations: Sequence[Operation], images: Any, progress: ProgressStore
) -> Callable[[Any], None]:
    """What a worker hands to `Engine.run_batch` as `previews`: each preview of request `i` is
    encoded in operation `i`'s output format, stored as `preview-{image}-{k}.{ext}` and recorded.
    Previews are a courtesy: a storage or database fault loses the preview, not the operation."""

    def sink(preview: Any) -> None:
        operation = operations[preview.request_index]
        ext = operation.params.get("output_format") or "png"
        try:
            name = preview_name(preview.image_index, preview.partial_image_index, ext)
            data = preview.encode(ext, operation.params.get("output_compression"))
            images.put_file(operation.id, name, data)
            progress.record(
                operation.id,
                preview.image_index,
                preview.partial_image_index,
                float(preview.progress),
                name,
            )
        except Exception as exc:  # a lost preview must never fail the work it shows
            log.warning("preview of %s not kept: %s", operation.id, exc)

    return sink
