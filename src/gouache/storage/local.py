"""Image bytes in a local folder: `{root}/{operation id}/{index}.{ext}`, owner-only.

Files are 0600 and folders 0700 whatever the umask: the images are the users' work. A write goes
to a temporary file that is renamed into place, and is removed again when the write fails, so a
full or read-only disk never leaves a partial image or a stray `.tmp` behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

from gouache.errors import ConfigError, StorageError
from gouache.storage.base import (
    CHUNK,
    ImageBody,
    checked_id,
    image_name,
    is_image_name,
    is_operation_id,
    is_stored_name,
)

log = logging.getLogger("gouache.storage")

_CAUSES = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission was denied",
    errno.EPERM: "permission was denied",
    errno.EIO: "the disk reported an input/output error",
    errno.ENOTEMPTY: "files remain in the folder",
}


def storage_error(action: str, exc: OSError) -> StorageError:
    """A StorageError that says what failed in words, without the server's paths (an OSError's
    text carries the file name; only its errno is kept)."""
    cause = _CAUSES.get(exc.errno or 0) or (
        os.strerror(exc.errno).lower() if exc.errno else type(exc).__name__
    )
    return StorageError(
        f"The image storage could not {action}: {cause}. The request can be retried once the "
        "operator has fixed the images folder.",
        headers={"retry-after": "10"},
    )


class LocalImageStore:
    can_presign = False

    def __init__(self, root: Path) -> None:
        self.root = root
        try:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise storage_error("create the images folder", exc) from exc
        try:
            os.chmod(self.root, 0o700)
        except OSError as exc:
            # An existing folder that cannot be changed just now (a read-only mount) must not stop
            # the server: the workers report the fault per operation and /readyz says why.
            log.warning("could not make the images folder private: %s", os.strerror(exc.errno or 0))

    def _folder(self, operation_id: str) -> Path:
        return self.root / checked_id(operation_id)

    def put(self, operation_id: str, index: int, ext: str, data: bytes, attempt: int = 1) -> str:
        """Write atomically (temp file + rename) so a crash never leaves a truncated image."""
        return self.put_file(operation_id, image_name(index, ext, attempt), data)

    def put_file(self, operation_id: str, name: str, data: bytes) -> str:
        if not is_stored_name(name):
            raise ValueError(f"{name!r} is not a name gouache stores")
        folder = self._folder(operation_id)
        tmp = folder / f".{name}.tmp"
        try:
            folder.mkdir(mode=0o700, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.fchmod(fd, 0o600)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
            os.replace(tmp, folder / name)
        except OSError as exc:
            # the same fault (read-only) can stop the clean-up: nothing was written then
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise storage_error("save the image", exc) from exc
        return name

    def path(self, operation_id: str, name: str) -> Path | None:
        """The file for a link's path parts, or None if the parts are not a stored image name."""
        try:
            folder = self._folder(operation_id)
        except ValueError:
            return None
        if not is_stored_name(name):
            return None
        path = folder / name
        return path if path.is_file() else None

    def read(self, operation_id: str, name: str) -> bytes:
        path = self.path(operation_id, name)
        if path is None:
            raise FileNotFoundError(f"image {name} of operation {operation_id} is not stored")
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise storage_error("read the image", exc) from exc

    async def open(self, operation_id: str, name: str) -> _LocalImage | None:
        """Looked up in a worker thread: the event loop never waits on the disk."""
        return await asyncio.to_thread(self._open, operation_id, name)

    def _open(self, operation_id: str, name: str) -> _LocalImage | None:
        path = self.path(operation_id, name)
        if path is None:
            return None
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise storage_error("read the image", exc) from exc
        return _LocalImage(path, size)

    async def exists(self, operation_id: str, name: str) -> bool:
        return await asyncio.to_thread(self._open, operation_id, name) is not None

    def presigned_url(self, operation_id: str, name: str, expires_in: int) -> str:
        """A folder has no URL of its own to hand out (`can_presign` is False): `check_storage`
        refuses redirect links over a folder at start-up, so reaching this is a configuration
        that bypassed that check."""
        raise ConfigError(
            "links = 'redirect' needs object storage (s3://, az:// or gs://) to sign storage "
            "URLs; with a local folder use links = 'stream'"
        )

    def discard(self, operation_id: str, names: list[str]) -> None:
        folder = self._folder(operation_id)
        for name in names:
            if not is_image_name(name):
                raise ValueError(f"{name!r} is not an image name")
            try:
                (folder / name).unlink(missing_ok=True)
            except OSError as exc:
                raise storage_error("delete the images", exc) from exc

    def delete(self, operation_id: str) -> None:
        """Remove the operation's folder, then check it is gone: a file that stays readable
        raises StorageError so that nobody reports a deletion that did not happen."""
        folder = self._folder(operation_id)
        try:
            shutil.rmtree(folder)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise storage_error("delete the images", exc) from exc
        if folder.exists():
            raise StorageError(
                "The image storage could not delete the images: they are still there. The "
                "operator must check the images folder; deleting again will retry.",
                headers={"retry-after": "10"},
            )

    def operation_ids(self) -> list[str]:
        """Operation folders on disk (nothing else that may sit in the folder), for sweeping
        images whose record is gone."""
        try:
            return [
                entry.name
                for entry in self.root.iterdir()
                if is_operation_id(entry.name) and entry.is_dir()
            ]
        except OSError as exc:
            raise storage_error("list the images", exc) from exc


class _LocalImage:
    def __init__(self, path: Path, size: int) -> None:
        self.path = path
        self.size = size

    async def body(self, start: int, end: int) -> ImageBody:
        try:
            handle = await asyncio.to_thread(open, self.path, "rb")
        except OSError as exc:
            raise storage_error("read the image", exc) from exc
        return ImageBody(self.size, start, end, _chunks(handle, start, end))


async def _chunks(handle, start: int, end: int) -> AsyncIterator[bytes]:
    try:
        await asyncio.to_thread(handle.seek, start)
        left = end - start
        while left > 0:
            chunk = await asyncio.to_thread(handle.read, min(CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            yield chunk
    finally:
        handle.close()
