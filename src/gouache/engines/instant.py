"""An engine that does no drawing work: for measuring the service's own overhead and for tests of
the job layer that must not depend on the illustrator. Each image is a flat colour derived from the
seed, encoded once per (size, colour) and cached."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from PIL import Image

from gouache.engines.base import Engine, GeneratedImage, ImageRequest
from gouache.engines.encoding import encode_image, media_type


@lru_cache(maxsize=256)
def _flat(size: str, colour: tuple[int, int, int], output_format: str) -> bytes:
    width, height = (int(part) for part in size.split("x"))
    return encode_image(Image.new("RGB", (width, height), colour), output_format)


class InstantEngine(Engine):
    name = "instant"
    max_batch_images = 64

    def generate(self, requests: Sequence[ImageRequest]) -> list[list[GeneratedImage]]:
        delay = float(self.options.get("delay_s", 0))
        if delay:
            import time

            time.sleep(delay)
        results = []
        for request in requests:
            images = []
            for index in range(request.n):
                seed = request.seed + index
                colour = (seed * 67 % 256, seed * 131 % 256, seed * 197 % 256)
                images.append(
                    GeneratedImage(
                        data=_flat(request.size, colour, request.output_format),
                        media_type=media_type(request.output_format),
                        revised_prompt=request.prompt,
                    )
                )
            results.append(images)
        return results
