"""In-process generation: no server, no network. The engine draws, the files are saved, and the
operation is shaped as the service would shape it (fresh UUID, expires = created + the service's
operation lifetime, status succeeded, each url the saved file's file:// URI)."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

from gouache.client.files import check_image, save_all
from gouache.client.progress import Progress
from gouache.client.request import Inputs
from gouache.client.results import ImageResult, Operation, OperationResult
from gouache.engines import ImageRequest, create_engine
from gouache.errors import GenerationFailed, GouacheError
from gouache.settings import Settings

OPERATION_TTL_S = Settings().operation_ttl_s  # the service's default: 24 h, as Azure
# A one-shot run's first request is the warm-up: drawing a throwaway picture first only delays it.
ENGINE_OPTIONS: dict[str, dict[str, object]] = {"builtin": {"warm_up": False}}


def random_seed() -> int:
    """A seed in 0..2**31-1 from the OS (what `secrets` would give, without importing hmac)."""
    return int.from_bytes(os.urandom(4), "big") >> 1


def run_local(inputs: Inputs, *, engine: str, out: Path, progress: Progress) -> Operation:
    started = time.monotonic()
    created = int(time.time())
    progress("running", 0.0)
    drawer = create_engine(engine, ENGINE_OPTIONS.get(engine))
    try:
        try:
            drawer.setup()
        except ImportError as exc:
            raise GouacheError(
                f"The in-process engine {engine!r} cannot load ({exc}). Call a server with "
                "--endpoint, or use --engine instant for flat placeholder images.",
                code="engine_unavailable",
            ) from exc
        request = ImageRequest(
            prompt=inputs.prompt,
            n=inputs.n,
            size=inputs.resolved_size,
            seed=inputs.seed if inputs.seed is not None else random_seed(),
            quality="standard",
        )
        try:
            images = drawer.generate([request])[0]
        except GouacheError:
            raise
        except Exception as exc:
            raise GenerationFailed(f"The engine failed: {type(exc).__name__}: {exc}") from exc
    finally:
        drawer.close()
    finished = int(time.time())
    operation_id = str(uuid.uuid4())
    checked = [
        check_image(
            image.data,
            media_type=image.media_type,
            expected_size=inputs.resolved_size,
            what=f"Image {index} from engine {engine!r}",
            decode=False,  # made in this process: format and size from the header suffice
        )
        for index, image in enumerate(images)
    ]
    paths = save_all(out, operation_id, checked)
    data = [
        ImageResult(url=path.as_uri(), path=str(path), revised_prompt=image.revised_prompt)
        for path, image in zip(paths, images, strict=True)
        if path is not None
    ]
    progress("succeeded", time.monotonic() - started)
    return Operation(
        id=operation_id,
        created=created,
        expires=created + OPERATION_TTL_S,
        status="succeeded",
        result=OperationResult(created=finished, data=data),
    )
