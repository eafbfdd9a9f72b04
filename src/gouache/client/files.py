"""Checking image bytes and saving a set of images all-or-nothing.

Every image is checked before anything is written (an image media type when the server named one,
that Pillow decodes it, the requested dimensions), written under a hidden temporary name, and
renamed only once all are written; on any failure whatever this run wrote is removed again.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from gouache.client.errors import DownloadError
from gouache.errors import GouacheError

SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
EXTENSIONS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "GIF": "gif"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Checked:
    data: bytes
    extension: str
    width: int
    height: int


def check_image(
    data: bytes,
    *,
    media_type: str | None,
    expected_size: str | None,
    what: str,
    decode: bool = True,
) -> Checked:
    """`decode=False` reads only the header (format and size): for bytes an engine made in this
    process, where a full decode (about 20 ms at 1024x1024) would only slow the command down. A
    PNG's header is read here directly, sparing the 15 ms Pillow spends loading its format
    plugins on the first `Image.open`."""
    kind = (media_type or "").split(";")[0].strip().lower()
    if kind and not (kind.startswith("image/") or kind == "application/octet-stream"):
        raise DownloadError(f"{what} is {kind or 'of no stated type'}, not an image.")
    header = None if decode else png_size(data)
    if header is not None:
        fmt, (width, height) = "PNG", header
    else:
        try:
            with Image.open(io.BytesIO(data)) as image:
                if decode:
                    image.load()
                fmt, (width, height) = image.format or "", image.size
        except (UnidentifiedImageError, OSError, ValueError) as exc:
            raise DownloadError(
                f"{what} does not decode as an image ({len(data)} bytes): {exc}"
            ) from exc
    if expected_size is not None and f"{width}x{height}" != expected_size:
        raise DownloadError(f"{what} is {width}x{height}; {expected_size} was requested.")
    return Checked(data, EXTENSIONS.get(fmt, fmt.lower() or "img"), width, height)


def png_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG's IHDR chunk (always its first), or None if `data` does not
    start as a PNG does."""
    if len(data) < 24 or data[:8] != PNG_SIGNATURE or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def save_all(out: Path, operation_id: str, images: Sequence[Checked | None]) -> list[Path | None]:
    """Write `{operation_id}-{index}.{ext}` into `out`; all of them, or none. A None image (one
    the server withheld) keeps its index and gets no file."""
    if not SAFE_ID.fullmatch(operation_id):
        # the id comes from the server; never let it steer where files go
        raise DownloadError(
            f"The operation id {operation_id[:80]!r} is not usable in a file name; not saving."
        )
    out = Path(out)
    made_dir = not out.exists()
    written: list[Path] = []
    finals: list[Path | None] = []
    try:
        out.mkdir(parents=True, exist_ok=True)
        pending: list[tuple[Path, Path]] = []
        for index, image in enumerate(images):
            if image is None:
                finals.append(None)
                continue
            final = out / f"{operation_id}-{index}.{image.extension}"
            temp = out / f".{final.name}.part"
            written.append(temp)
            temp.write_bytes(image.data)
            pending.append((temp, final))
            finals.append(final)
        for temp, final in pending:
            os.replace(temp, final)
            written.append(final)
    except BaseException as exc:
        for path in written:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        if made_dir:
            with contextlib.suppress(OSError):
                out.rmdir()
        if isinstance(exc, OSError):
            raise GouacheError(
                f"Cannot save the images in {out}: {exc}", code="write_failed"
            ) from exc
        raise
    return [final.resolve() if final is not None else None for final in finals]
