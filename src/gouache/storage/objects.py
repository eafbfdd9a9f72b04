"""Image bytes in object storage (S3 and S3-compatible stores, Azure Blob, Google Cloud Storage),
through obstore: `{prefix}/{operation id}/{index}.{ext}` in one bucket or container.

Every API node and worker reaches the same objects, so any node can serve any link. Credentials
come from each cloud's usual environment variables, read by obstore itself (AWS_ACCESS_KEY_ID,
AZURE_STORAGE_ACCOUNT_NAME, GOOGLE_SERVICE_ACCOUNT, ...); gouache never stores or prints them.
An object write is atomic in every one of these stores, so a failed put leaves nothing partial.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import obstore
from obstore.exceptions import (
    BaseError,
    NotFoundError,
    PermissionDeniedError,
    UnauthenticatedError,
)

from gouache.errors import StorageError
from gouache.storage.base import (
    CHUNK,
    ImageBody,
    checked_id,
    image_name,
    is_image_name,
    is_operation_id,
    is_stored_name,
)

# obstore raises its own classes for most failures, and Python's built-in ones for some (a missing
# object is a plain FileNotFoundError): catch both.
NOT_FOUND = (NotFoundError, FileNotFoundError)
FAILURES = (BaseError, OSError)
MEDIA_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}

# A store that is down must answer quickly with an error, not hold requests for minutes
# (obstore's default retries for up to three minutes).
RETRY = {"max_retries": 2, "retry_timeout": timedelta(seconds=10)}
TIMEOUTS = {"connect_timeout": "5s", "timeout": "30s"}


def object_error(action: str, exc: BaseException) -> StorageError:
    """In words only: obstore's messages carry the store's URL, bucket and sometimes the
    request, none of which belongs in a client's error."""
    if isinstance(exc, PermissionDeniedError | UnauthenticatedError | PermissionError):
        cause = "the object store refused the credentials"
    elif isinstance(exc, FAILURES):
        cause = "the object store did not answer or answered with an error"
    else:
        cause = f"an unexpected {type(exc).__name__}"
    return StorageError(
        f"The image storage could not {action}: {cause}. The request can be retried; if it "
        "keeps failing, the operator must check the object store and its credentials.",
        headers={"retry-after": "10"},
    )


class ObjectImageStore:
    can_presign = True

    def __init__(self, store: Any, scheme: str) -> None:
        """`store` is an obstore S3Store, AzureStore or GCSStore, already scoped to the prefix.
        (Never `repr` it: some obstore versions panic doing so.)"""
        self.store = store
        self.scheme = scheme

    @staticmethod
    def _key(operation_id: str, name: str) -> str:
        return f"{checked_id(operation_id)}/{name}"

    def put(self, operation_id: str, index: int, ext: str, data: bytes, attempt: int = 1) -> str:
        return self.put_file(operation_id, image_name(index, ext, attempt), data)

    def put_file(self, operation_id: str, name: str, data: bytes) -> str:
        if not is_stored_name(name):
            raise ValueError(f"{name!r} is not a name gouache stores")
        ext = name.rsplit(".", 1)[1]
        try:
            obstore.put(
                self.store,
                self._key(operation_id, name),
                data,
                attributes={"Content-Type": MEDIA_TYPES[ext]},
            )
        except FAILURES as exc:
            raise object_error("save the image", exc) from exc
        return name

    def read(self, operation_id: str, name: str) -> bytes:
        if not is_stored_name(name):
            raise FileNotFoundError(f"{name} is not an image name")
        try:
            return bytes(obstore.get(self.store, self._key(operation_id, name)).bytes())
        except NOT_FOUND as exc:
            raise FileNotFoundError(
                f"image {name} of operation {operation_id} is not stored"
            ) from exc
        except FAILURES as exc:
            raise object_error("read the image", exc) from exc

    def _link_key(self, operation_id: str, name: str) -> str | None:
        try:
            key = self._key(operation_id, name)
        except ValueError:
            return None
        return key if is_stored_name(name) else None

    async def open(self, operation_id: str, name: str) -> _StoredObject | None:
        """One GET: its answer carries the size, and its body is the whole image, which is what
        almost every download wants (a byte range costs a second, ranged GET)."""
        key = self._link_key(operation_id, name)
        if key is None:
            return None
        try:
            result = await obstore.get_async(self.store, key)
        except NOT_FOUND:
            return None
        except FAILURES as exc:
            raise object_error("read the image", exc) from exc
        return _StoredObject(self.store, key, int(result.meta["size"]), result)

    async def exists(self, operation_id: str, name: str) -> bool:
        """One HEAD request, before handing out a presigned URL to something that is gone."""
        key = self._link_key(operation_id, name)
        if key is None:
            return False
        try:
            await obstore.head_async(self.store, key)
        except NOT_FOUND:
            return False
        except FAILURES as exc:
            raise object_error("read the image", exc) from exc
        return True

    def presigned_url(self, operation_id: str, name: str, expires_in: int) -> str:
        """A URL signed with the store's own credentials (an S3 presigned URL, an Azure SAS, a
        GCS signed URL), for GET on this one object only."""
        try:
            return obstore.sign(
                self.store,
                "GET",
                self._key(operation_id, name),
                timedelta(seconds=max(1, expires_in)),
            )
        except FAILURES as exc:
            raise object_error("sign a link to the image", exc) from exc

    def _keys(self, operation_id: str) -> list[str]:
        prefix = checked_id(operation_id)
        return [meta["path"] for meta in obstore.list(self.store, prefix).collect()]

    def discard(self, operation_id: str, names: list[str]) -> None:
        keys = [self._key(operation_id, name) for name in names if is_image_name(name)]
        if not keys:
            return
        for key in keys:
            try:
                obstore.delete(self.store, key)
            except NOT_FOUND:
                continue  # never written, or already gone: either way not there
            except FAILURES as exc:
                raise object_error("delete the images", exc) from exc

    def delete(self, operation_id: str) -> None:
        """Delete every object under the operation, then list again: anything still there is a
        StorageError, never a silent success."""
        try:
            keys = self._keys(operation_id)
            if keys:
                obstore.delete(self.store, keys)
            remaining = self._keys(operation_id)
        except FAILURES as exc:
            raise object_error("delete the images", exc) from exc
        if remaining:
            raise StorageError(
                f"The image storage could not delete the images: {len(remaining)} of them are "
                "still there. Deleting again will retry.",
                headers={"retry-after": "10"},
            )

    def operation_ids(self) -> list[str]:
        try:
            listing = obstore.list_with_delimiter(self.store, None)
        except FAILURES as exc:
            raise object_error("list the images", exc) from exc
        names = (prefix.rstrip("/").rsplit("/", 1)[-1] for prefix in listing["common_prefixes"])
        return [name for name in names if is_operation_id(name)]


class _StoredObject:
    def __init__(self, store: Any, key: str, size: int, whole: Any) -> None:
        self.store = store
        self.key = key
        self.size = size
        self._whole = whole

    async def body(self, start: int, end: int) -> ImageBody:
        """The whole image from the GET already made, or a ranged GET; either has answered
        before this returns, so a failure is an error response, not a cut-off body."""
        if (start, end) == (0, self.size):
            return ImageBody(self.size, start, end, _stream(self._whole))
        try:
            result = await obstore.get_async(self.store, self.key, options={"range": (start, end)})
        except NOT_FOUND as exc:
            raise FileNotFoundError("the image was deleted while it was being sent") from exc
        except FAILURES as exc:
            raise object_error("read the image", exc) from exc
        return ImageBody(self.size, start, end, _stream(result))


async def _stream(result: Any) -> AsyncIterator[bytes]:
    async for chunk in result.stream(min_chunk_size=CHUNK):
        yield bytes(chunk)
