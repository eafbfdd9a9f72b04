"""The typed result: the Azure DALL-E image *operation* object, as the seed action returns it.

`Operation.to_dict()` gives the wire JSON (`{id, created, expires, result: {created, data: [{url}]},
status}`); gouache adds `path` to an image item when the image was saved, and `revised_prompt` when
the engine or server said how it read the prompt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ImageResult:
    url: str | None
    path: str | None = None
    revised_prompt: str | None = None
    error: dict[str, Any] | None = None  # a per-image {code, message} (e.g. filtered), url None

    def to_dict(self) -> dict[str, Any]:
        item: dict[str, Any] = {"url": self.url}
        if self.path is not None:
            item["path"] = self.path
        if self.revised_prompt is not None:
            item["revised_prompt"] = self.revised_prompt
        if self.error is not None:
            item["error"] = self.error
        return item


@dataclass
class OperationResult:
    created: int | None
    data: list[ImageResult] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"created": self.created, "data": [item.to_dict() for item in self.data]}


@dataclass
class Operation:
    """`expires` is None when the server did not say (the deployments route never does)."""

    id: str | None
    created: int | None
    expires: int | None
    status: str
    result: OperationResult | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "created": self.created,
            "expires": self.expires,
            "result": self.result.to_dict() if self.result is not None else None,
            "status": self.status,
        }

    @property
    def urls(self) -> list[str | None]:
        return [item.url for item in self.result.data] if self.result else []

    @property
    def paths(self) -> list[str | None]:
        return [item.path for item in self.result.data] if self.result else []

    @classmethod
    def from_wire(cls, body: dict[str, Any]) -> Operation:
        """Read a succeeded operation as the async API's poll returns it."""
        raw = body.get("result") or {}
        data = [
            ImageResult(
                url=item.get("url"),
                revised_prompt=item.get("revised_prompt"),
                error=item.get("error"),
            )
            for item in raw.get("data") or []
            if isinstance(item, dict)
        ]
        return cls(
            id=body.get("id"),
            created=body.get("created"),
            expires=body.get("expires"),
            status=str(body.get("status")),
            result=OperationResult(created=raw.get("created", body.get("created")), data=data),
        )
