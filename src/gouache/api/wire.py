"""Operations and images in their wire shapes."""

from __future__ import annotations

import asyncio
import base64
import time
from typing import Any

from starlette.requests import Request
from starlette.types import Scope

from gouache.errors import GouacheError
from gouache.jobs.states import Status
from gouache.jobs.store import Operation
from gouache.settings import Settings
from gouache.storage import LinkSigner, LocalImageStore


class ImagesUnavailable(GouacheError):
    """A finished operation's image bytes could not be read (removed by expiry or a DELETE racing
    this request, or lost from storage). Said plainly, and never as a 500 on every poll."""

    status_code = 503
    code = "imagesUnavailable"
    type = "server_error"

    def __init__(self, operation_id: str) -> None:
        super().__init__(
            f"The images of operation {operation_id} are no longer in storage: they expired, were "
            "deleted, or storage lost them. Submit the request again for new images."
        )


def needs_image_bytes(operation: Operation) -> bool:
    """Whether the operation's answer carries its images inline (b64_json), read from storage."""
    return (
        operation.status == Status.SUCCEEDED
        and operation.result is not None
        and operation.params.get("response_format") == "b64_json"
    )


class WireFormatter:
    def __init__(self, settings: Settings, signer: LinkSigner, images: LocalImageStore) -> None:
        self.settings = settings
        self.signer = signer
        self.images = images

    def base_url(self, request: Request) -> str:
        """Where the client reached us: links and operation-location must work from there."""
        return self.scope_base_url(request.scope, request.headers.get("host"))

    def scope_base_url(self, scope: Scope, host: str | None) -> str:
        """`base_url` from the ASGI scope and its Host header (None when absent).

        Built from the Host header directly; Starlette's `request.base_url` builds URL objects
        and cost as much as the whole store read on every poll."""
        if self.settings.public_url:
            return self.settings.public_url.rstrip("/")
        if not host:
            server = scope.get("server") or ("localhost", None)
            host = server[0] if server[1] in (None, 80, 443) else f"{server[0]}:{server[1]}"
        return f"{scope['scheme']}://{host}{scope.get('root_path', '')}"

    def link_expiry(self, operation: Operation) -> int:
        if self.settings.link_ttl_s <= 0:
            return operation.expires
        return min(operation.expires, int(time.time()) + self.settings.link_ttl_s)

    def image_url(
        self, base: str, operation: Operation, name: str, expiry: int | None = None
    ) -> str:
        path = f"/images/{operation.id}/{name}"
        if expiry is None:
            expiry = self.link_expiry(operation)
        return f"{base}{path}?{self.signer.query(path, expiry)}"

    async def image_items(
        self, request: Request, operation: Operation, *, revised_prompt: bool
    ) -> list[dict[str, Any]]:
        assert operation.result is not None
        stored_items = operation.result["data"]
        images: list[bytes] | None = None
        if operation.params.get("response_format") == "b64_json":
            # file reads go to a thread: a slow or stuck disk must not stall the event loop
            names = [stored["name"] for stored in stored_items]
            images = await asyncio.to_thread(self._read_all, operation.id, names)
        return self._items(self.base_url(request), operation, images, revised_prompt)

    def _items(
        self,
        base: str,
        operation: Operation,
        images: list[bytes] | None,
        revised_prompt: bool,
        expiry: int | None = None,
    ) -> list[dict[str, Any]]:
        assert operation.result is not None
        if expiry is None:  # once, so every link of one answer shares it
            expiry = self.link_expiry(operation)
        items = []
        for index, stored in enumerate(operation.result["data"]):
            if images is not None:
                item: dict[str, Any] = {"b64_json": base64.b64encode(images[index]).decode()}
            else:
                item = {"url": self.image_url(base, operation, stored["name"], expiry)}
            if revised_prompt and "revised_prompt" in stored:
                item["revised_prompt"] = stored["revised_prompt"]
            items.append(item)
        return items

    def _read_all(self, operation_id: str, names: list[str]) -> list[bytes]:
        try:
            return [self.images.read(operation_id, name) for name in names]
        except (OSError, GouacheError) as exc:
            raise ImagesUnavailable(operation_id) from exc

    async def operation(self, request: Request, operation: Operation) -> dict[str, Any]:
        """The Azure `BatchImageGenerationOperationResponse`."""
        if not needs_image_bytes(operation):
            return self.operation_with_links(self.base_url(request), operation)
        body = self._operation_head(operation)
        assert operation.result is not None
        try:
            data = await self.image_items(request, operation, revised_prompt=False)
        except ImagesUnavailable as exc:
            return self._without_images(body, operation, exc)
        body["result"] = {"created": operation.result["created"], "data": data}
        return body

    def operation_with_links(
        self, base: str, operation: Operation, expiry: int | None = None
    ) -> dict[str, Any]:
        """`operation` for one that needs no storage read: its images, if any, are links under
        `base`, valid until `expiry` (by default `link_expiry`). Synchronous, so a poll can be
        answered without leaving the request's task."""
        body = self._operation_head(operation)
        if operation.status == Status.SUCCEEDED and operation.result is not None:
            data = self._items(base, operation, None, revised_prompt=False, expiry=expiry)
            body["result"] = {"created": operation.result["created"], "data": data}
        if operation.status == Status.FAILED and operation.error is not None:
            body["error"] = {
                "code": operation.error["code"],
                "message": operation.error["message"],
            }
        return body

    @staticmethod
    def _operation_head(operation: Operation) -> dict[str, Any]:
        return {
            "id": operation.id,
            "created": operation.created,
            "expires": operation.expires,
            "status": operation.status.value,
        }

    @staticmethod
    def _without_images(
        body: dict[str, Any], operation: Operation, exc: ImagesUnavailable
    ) -> dict[str, Any]:
        """A succeeded operation whose images are gone: past its expiry it is reported `deleted`,
        as the sweeper is about to record; before, `failed` with the reason."""
        if operation.expires <= time.time():
            body["status"] = Status.DELETED.value
            return body
        body["status"] = Status.FAILED.value
        body["error"] = {"code": exc.code, "message": exc.message}
        return body
