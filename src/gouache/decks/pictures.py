"""Making, cropping and keeping the pictures of a deck or kit, beside what they belong to.

Each picture is asked for through the public client (`generate_images`) at the offered size
nearest its area's aspect, then cropped to fill that area exactly (never stretched). It is kept in
a folder with a manifest recording the prompt, seed, sizes and operation id; its file name carries
a key of everything that shaped it, so a second run reuses what is there and makes only what is
missing or what changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from gouache.client import RemoteError, generate_images
from gouache.decks.target import Target
from gouache.errors import GouacheError

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class PictureRequest:
    name: str  # file name stem: "slide-03", "social-square"
    prompt: str
    aspect: float  # width / height of the area the picture fills
    seed: int | None
    pixels: tuple[int, int] | None = None  # an exact output size, else the crop's own size


@dataclass(frozen=True)
class Picture:
    path: Path
    prompt: str
    seed: int | None  # None: not sent (the endpoint does not take one)
    requested_size: str
    made_size: str
    deployment: str
    operation_id: str | None
    revised_prompt: str | None
    reused: bool = False


class PictureStore:
    """One folder of pictures and its manifest.json."""

    def __init__(self, folder: Path, target: Target) -> None:
        self.folder = Path(folder)
        self.target = target
        self.manifest_path = self.folder / MANIFEST
        self.entries: dict[str, dict[str, Any]] = self._read_manifest()
        self._lock = threading.Lock()  # pictures may be made on several threads
        self._refused: set[str] = set()  # sizes the deployment refused during this run

    def _read_manifest(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return {}
        entries = data.get("pictures") if isinstance(data, dict) else None
        return entries if isinstance(entries, dict) else {}

    def key(self, request: PictureRequest) -> str:
        target = self.target
        shaped_by = {
            "prompt": request.prompt,
            "seed": request.seed if target.sends_seed else None,
            "aspect": round(request.aspect, 4),
            "pixels": request.pixels,
            "deployment": target.deployment_name,
            "where": target.endpoint or f"engine:{target.engine}",
        }
        digest = hashlib.sha256(json.dumps(shaped_by, sort_keys=True).encode()).hexdigest()
        return f"{request.name}-{digest[:12]}"

    def existing(self, request: PictureRequest) -> Picture | None:
        key = self.key(request)
        entry = self.entries.get(key)
        if not isinstance(entry, dict) or not (self.folder / str(entry.get("file"))).is_file():
            return None
        fields = {k: v for k, v in entry.items() if k != "file"}
        try:
            return Picture(path=self.folder / entry["file"], reused=True, **fields)
        except TypeError:  # an entry this version does not read: make the picture again
            return None

    def get(self, request: PictureRequest) -> Picture:
        """The kept picture if there is one, else a new one (raises `GouacheError`)."""
        found = self.existing(request)
        if found is not None:
            return found
        picture = self._make(request)
        self._record(self.key(request), picture)
        return picture

    def _make(self, request: PictureRequest) -> Picture:
        target = self.target
        seed = request.seed if target.sends_seed else None
        candidates = target.size_candidates(request.aspect)
        incoming = self.folder / f".incoming-{request.name}"  # one per picture: made in parallel
        try:
            operation, size, made = self._generate_first_taken(request, candidates, seed, incoming)
            item = operation.result.data[0] if operation.result and operation.result.data else None
            if item is None or item.path is None:
                error = (item.error if item else None) or {}
                raise GouacheError(
                    error.get("message") or "The endpoint returned no image.",
                    code=error.get("code") or "no_image",
                )
            final = self.folder / f"{self.key(request)}.png"
            _crop_and_save(Path(item.path), final, request.aspect, request.pixels)
        finally:
            shutil.rmtree(incoming, ignore_errors=True)
        return Picture(
            path=final,
            prompt=request.prompt,
            seed=seed,
            requested_size=size,
            made_size=made,
            deployment=target.deployment_label,
            operation_id=operation.id,
            revised_prompt=item.revised_prompt,
        )

    def _generate_first_taken(
        self, request: PictureRequest, candidates: list[str], seed: int | None, out: Path
    ) -> tuple[Any, str, str]:
        """Ask for the first candidate size the deployment has not refused; on a refusal (its
        own 400 on `size`), remember it for the rest of the run and ask for the next. The last
        candidate, the square every image deployment offers, is always asked for last.
        Returns the operation, the size asked for first and the size made."""
        with self._lock:
            order = [size for size in candidates[:-1] if size not in self._refused]
        order.append(candidates[-1])
        for size in order[:-1]:
            try:
                return self._generate(request.prompt, size, seed, out), order[0], size
            except RemoteError as exc:
                if not _refuses_size(exc):
                    raise
                with self._lock:
                    self._refused.add(size)
        return self._generate(request.prompt, order[-1], seed, out), order[0], order[-1]

    def _generate(self, prompt: str, size: str, seed: int | None, out: Path):
        return generate_images(prompt, size=size, seed=seed, out=out, **self.target.kwargs())

    def _record(self, key: str, picture: Picture) -> None:
        entry = asdict(picture)
        entry["file"] = picture.path.name
        for name in ("path", "reused"):
            entry.pop(name)
        with self._lock:
            self.entries[key] = entry
            self.save()

    def save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        body = json.dumps({"pictures": self.entries}, indent=2, sort_keys=True) + "\n"
        temp = self.manifest_path.with_name(f".{MANIFEST}.part")
        temp.write_text(body, encoding="utf-8")
        os.replace(temp, self.manifest_path)

    def prune(self, keep: set[str]) -> None:
        """Forget (and delete) pictures no longer asked for: an edited prompt's old picture."""
        for key in [key for key in self.entries if key not in keep]:
            with contextlib.suppress(FileNotFoundError):
                (self.folder / self.entries[key]["file"]).unlink()
            del self.entries[key]
        self.save()


def _refuses_size(error: RemoteError) -> bool:
    """The server answered 400 naming `size`: the request was fine but for the size."""
    return error.status_code == 400 and error.param == "size"


def make_all(
    store: PictureStore,
    requests: Sequence[PictureRequest],
    labels: dict[str, str],
    *,
    concurrency: int = 1,
    progress: Callable[[int, str], None] | None = None,
) -> dict[str, Picture | GouacheError]:
    """Every request's picture, or the error that stopped it: one failure never loses the rest.

    Up to `concurrency` pictures are asked for at once (a remote endpoint works on several while
    this process waits); `progress(done, label)` is called as each one finishes."""
    results: dict[str, Picture | GouacheError] = {}
    if progress is not None:
        progress(0, f"making {len(requests)} pictures")

    def one(request: PictureRequest) -> Picture | GouacheError:
        try:
            return store.get(request)
        except GouacheError as exc:
            return exc

    pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="picture")
    try:
        futures = {pool.submit(one, request): request for request in requests}
        for done, future in enumerate(as_completed(futures), start=1):
            request = futures[future]
            results[request.name] = future.result()
            if progress is not None:
                progress(done, labels.get(request.name, request.name))
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return results


def crop_to_fill(image: Image.Image, aspect: float) -> Image.Image:
    """The largest centred part of `image` with the given aspect: cropped, never stretched."""
    width, height = image.size
    if width / height > aspect:
        new_width = max(1, round(height * aspect))
        left = (width - new_width) // 2
        return image.crop((left, 0, left + new_width, height))
    new_height = max(1, round(width / aspect))
    top = (height - new_height) // 2
    return image.crop((0, top, width, top + new_height))


def _crop_and_save(
    source: Path, final: Path, aspect: float, pixels: tuple[int, int] | None
) -> None:
    with Image.open(source) as opened:
        image = ImageOps.exif_transpose(opened).convert("RGB")
    if pixels is not None:
        image = ImageOps.fit(image, pixels, method=Image.Resampling.LANCZOS)
    else:
        image = crop_to_fill(image, aspect)
    final.parent.mkdir(parents=True, exist_ok=True)
    temp = final.with_name(f".{final.name}.part")
    image.save(temp, format="PNG", optimize=False)
    os.replace(temp, final)
