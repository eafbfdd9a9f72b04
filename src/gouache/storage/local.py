"""Image bytes in a local folder: `{root}/{operation id}/{index}.{ext}`.

Paths are only ever built from a validated operation id (a UUID) and an integer index, never from
user text, so nothing outside the folder can be read or written through this class.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from pathlib import Path

_EXTENSIONS = {"png", "jpeg", "webp"}
_NAME = re.compile(r"^(?P<index>\d{1,3})\.(?P<ext>png|jpeg|webp)$")


def _checked_id(operation_id: str) -> str:
    return str(uuid.UUID(operation_id))


class LocalImageStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def _folder(self, operation_id: str) -> Path:
        return self.root / _checked_id(operation_id)

    def put(self, operation_id: str, index: int, ext: str, data: bytes) -> str:
        """Write atomically (temp file + rename) so a crash never leaves a truncated image."""
        if ext not in _EXTENSIONS or not 0 <= index < 1000:
            raise ValueError(f"bad image name {index}.{ext}")
        folder = self._folder(operation_id)
        folder.mkdir(exist_ok=True)
        name = f"{index}.{ext}"
        tmp = folder / f".{name}.tmp"
        with open(tmp, "wb") as handle:
            handle.write(data)
        os.replace(tmp, folder / name)
        return name

    def path(self, operation_id: str, name: str) -> Path | None:
        """The file for a link's path parts, or None if the parts are not a stored image name."""
        try:
            folder = self._folder(operation_id)
        except ValueError:
            return None
        if not _NAME.match(name):
            return None
        path = folder / name
        return path if path.is_file() else None

    def read(self, operation_id: str, name: str) -> bytes:
        path = self.path(operation_id, name)
        if path is None:
            raise FileNotFoundError(f"{operation_id}/{name}")
        return path.read_bytes()

    def delete(self, operation_id: str) -> None:
        shutil.rmtree(self._folder(operation_id), ignore_errors=True)

    def operation_ids(self) -> list[str]:
        """Folders on disk, for sweeping images whose record is gone."""
        return [entry.name for entry in self.root.iterdir() if entry.is_dir()]
