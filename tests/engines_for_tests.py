"""Engines that misbehave on purpose, loaded by `gouache serve` through `engine = "module:Class"`."""

from __future__ import annotations

import time
from collections.abc import Sequence

from gouache.engines import GeneratedImage, ImageRequest
from gouache.engines.instant import InstantEngine
from gouache.errors import ContentFiltered, GenerationFailed, GouacheError


class SlowSetupEngine(InstantEngine):
    """Loads for `setup_s` seconds, like a large model would."""

    def setup(self) -> None:
        time.sleep(float(self.options.get("setup_s", 2.0)))


class BrokenSetupEngine(InstantEngine):
    def setup(self) -> None:
        raise FileNotFoundError("model folder /nowhere/model does not exist")


class FailingEngine(InstantEngine):
    """Refuses prompts containing 'forbidden' (that request only, as a safety checker would),
    fails the whole batch on 'explode' and 'crash'."""

    def generate(
        self, requests: Sequence[ImageRequest]
    ) -> list[list[GeneratedImage] | GouacheError]:
        for request in requests:
            if "explode" in request.prompt:
                raise GenerationFailed("the engine ran out of memory drawing 5 images at 1024x1024")
            if "crash" in request.prompt:
                raise RuntimeError("unexpected bug")
        drawn = super().generate(requests)
        return [
            ContentFiltered() if "forbidden" in request.prompt else images
            for request, images in zip(requests, drawn, strict=True)
        ]


class SlowPreviewEngine(InstantEngine):
    """Draws flat images slowly, sending a preview (a darker flat image) after each of
    `partial_images` steps that take `step_s` seconds: for watching progress arrive."""

    supports_previews = True

    def generate(self, requests: Sequence[ImageRequest], previews=None):
        from PIL import Image

        from gouache.engines.base import Preview

        step = float(self.options.get("step_s", 0.3))
        for position, request in enumerate(requests):
            for k in range(request.partial_images):
                time.sleep(step)
                if previews is not None:
                    for index in range(request.n):
                        shade = 40 + 60 * k
                        picture = Image.new("RGB", (request.width, request.height), (shade,) * 3)
                        progress = (k + 1) / (request.partial_images + 1)
                        previews(Preview(position, index, k, progress, picture))
            time.sleep(step)
        return super().generate(requests)


class RecordingEngine(InstantEngine):
    """Appends `start PID PROMPT` before each batch's work and `end PID PROMPT` after it to the
    file named by option `record`, so a test can count how often each operation ran and see which
    process was in the middle of which operation when it was killed. `delay_s` is the work per
    batch; `max_batch_images` caps a batch, as for every engine."""

    def _write(self, word: str, requests: Sequence[ImageRequest]) -> None:
        import os

        lines = "".join(f"{word} {os.getpid()} {request.prompt}\n" for request in requests)
        # one O_APPEND write per batch: lines from several processes never interleave
        fd = os.open(self.options["record"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, lines.encode())
        finally:
            os.close(fd)

    def generate(self, requests: Sequence[ImageRequest]) -> list[list[GeneratedImage]]:
        self._write("start", requests)
        drawn = super().generate(requests)
        self._write("end", requests)
        return drawn
