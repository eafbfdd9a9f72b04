"""What every image store offers, and the naming rules they share.

An operation's images live under `{operation id}/{index}.{ext}` in every backend, or
`{operation id}/{attempt}-{index}.{ext}` when a later attempt made them (a lapsed lease let another
worker run the operation again): two attempts never write the same name, so the one that loses
the race removes only its own images. Next to them, an edit or a variation keeps its inputs
(`input-{i}.{ext}`, `mask.png`) and a streamed operation its previews
(`preview-{image}-{k}.{ext}`): no such name can be mistaken for an output image, and all live
under the operation's prefix, so deleting the operation deletes them too. Names are only ever
built from a validated operation id (a UUID) and integers, never from user text, so no link can
reach anything but a stored image.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

EXTENSIONS = frozenset({"png", "jpeg", "webp"})
# the size of each piece a streamed image is read and sent in, from a folder or an object store
CHUNK = 256 * 1024
IMAGE_NAME = re.compile(r"^(?:(?P<attempt>\d{1,3})-)?(?P<index>\d{1,3})\.(?P<ext>png|jpeg|webp)$")
STORED_NAME = re.compile(
    r"^(?:(?:\d{1,3}-)?\d{1,3}|input-\d{1,2}|mask|preview-\d{1,3}-\d)\.(?:png|jpeg|webp)$"
)


def checked_id(operation_id: str) -> str:
    """The canonical form of an operation id; ValueError for anything that is not a UUID."""
    return str(uuid.UUID(operation_id))


def is_operation_id(name: str) -> bool:
    """True for names that are exactly an operation id as we write them (canonical UUIDs)."""
    try:
        return checked_id(name) == name
    except ValueError:
        return False


def image_name(index: int, ext: str, attempt: int = 1) -> str:
    """`0.png` for the first attempt's first image, `2-0.png` for the second attempt's."""
    if ext not in EXTENSIONS or not 0 <= index < 1000 or not 1 <= attempt < 1000:
        raise ValueError(f"bad image name {attempt}-{index}.{ext}")
    return f"{index}.{ext}" if attempt == 1 else f"{attempt}-{index}.{ext}"


def is_image_name(name: str) -> bool:
    return IMAGE_NAME.match(name) is not None


def input_name(index: int, ext: str) -> str:
    """An edit's or a variation's input image `index` (0..15)."""
    if ext not in EXTENSIONS or not 0 <= index < 100:
        raise ValueError(f"bad input name {index}.{ext}")
    return f"input-{index}.{ext}"


MASK_NAME = "mask.png"


def preview_name(image_index: int, partial_index: int, ext: str) -> str:
    """Preview `partial_index` (0..9) of output image `image_index`."""
    if ext not in EXTENSIONS or not 0 <= image_index < 1000 or not 0 <= partial_index < 10:
        raise ValueError(f"bad preview name {image_index}-{partial_index}.{ext}")
    return f"preview-{image_index}-{partial_index}.{ext}"


def is_stored_name(name: str) -> bool:
    """Any name an operation may have in storage: outputs, inputs, the mask, previews."""
    return STORED_NAME.match(name) is not None


@dataclass(frozen=True)
class ImageBody:
    """An image opened for sending: its total size and its bytes from `start` to `end`
    (exclusive), as chunks. The store has already answered when this exists, so a missing or
    unreadable image is an error before the response starts, not halfway through it."""

    size: int
    start: int
    end: int
    chunks: AsyncIterator[bytes]


class ImageHandle(Protocol):
    """A stored image found by `ImageStore.open`: its size, and a way to read any part of it."""

    size: int

    async def body(self, start: int, end: int) -> ImageBody: ...


@runtime_checkable
class ImageStore(Protocol):
    """Image bytes for operations. Every failure of the storage itself (full, read-only, refused,
    unreachable) is raised as `gouache.errors.StorageError`; a missing image is
    `FileNotFoundError` from `read` and None from `open`."""

    #: True when `presigned_url` can hand out direct links (object storage).
    can_presign: bool

    def put(self, operation_id: str, index: int, ext: str, data: bytes, attempt: int = 1) -> str:
        """Store one image whole (never a partial object) and return its name."""
        ...

    def put_file(self, operation_id: str, name: str, data: bytes) -> str:
        """Store one file under a name from `input_name`, `MASK_NAME` or `preview_name`."""
        ...

    def discard(self, operation_id: str, names: list[str]) -> None:
        """Remove these images of an operation only (an attempt cleaning up after itself)."""
        ...

    def read(self, operation_id: str, name: str) -> bytes: ...

    async def open(self, operation_id: str, name: str) -> ImageHandle | None:
        """The image for a link's path parts, or None if there is no such stored image."""
        ...

    async def exists(self, operation_id: str, name: str) -> bool:
        """Whether the image is stored, without reading it."""
        ...

    def presigned_url(self, operation_id: str, name: str, expires_in: int) -> str:
        """A direct storage URL for one image, valid `expires_in` seconds."""
        ...

    def delete(self, operation_id: str) -> None:
        """Remove all of an operation's images and check they are gone; StorageError if not."""
        ...

    def operation_ids(self) -> list[str]:
        """Ids of the operations that have anything stored, for reconciling with the records."""
        ...
