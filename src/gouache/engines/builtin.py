"""The built-in engine: a thin adapter over `gouache.illustrator`, which draws offline on a CPU.

One instance serves every deployment and worker thread (`shared`): the illustrator's index,
encoder and glyph caches are loaded and warmed once per process. The illustrator is thread-safe
(what its threads share is loaded once and then only read; font use is serialised inside it), so
worker threads draw and encode at the same time, with no engine-wide lock.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from gouache.engines import builtin_edits
from gouache.engines.base import Engine, GeneratedImage, ImageRequest, Preview, PreviewSink
from gouache.engines.encoding import encode_image, media_type

WARM_UP_PROMPT = "a red apple on a table"


class BuiltinEngine(Engine):
    """Options: `warm_up` (default true) draws one small picture in `setup()` so that the first
    request does not pay for loading fonts and glyphs; a one-shot run turns it off."""

    name = "builtin"
    shared = True
    supports_edits = True
    supports_variations = True
    supports_previews = True

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        self.warm_up = bool(self.options.get("warm_up", True))
        self._illustrator: Any = None
        self._loading = threading.Lock()

    def setup(self) -> None:
        """Load once, however many workers call it (they wait for the first one's load)."""
        with self._loading:
            if self._illustrator is not None:
                return
            from gouache.illustrator import Illustrator

            illustrator = Illustrator()
            illustrator.load()
            if self.warm_up:
                illustrator.draw(WARM_UP_PROMPT, width=256, height=256, seed=0)
            self._illustrator = illustrator

    def generate(
        self, requests: Sequence[ImageRequest], previews: PreviewSink | None = None
    ) -> list[list[GeneratedImage]]:
        if self._illustrator is None:
            self.setup()
        return [
            self._generate_one(request)
            if request.operation == "generate" and not (previews and request.partial_images)
            else self._edit_one(request, position, previews)
            for position, request in enumerate(requests)
        ]

    def _edit_one(
        self, request: ImageRequest, position: int, previews: PreviewSink | None
    ) -> list[GeneratedImage]:
        """Edits, variations, and generations with previews: see `builtin_edits`."""
        images = []
        for index in range(request.n):

            def preview(partial: int, picture: Any, progress: float, index: int = index) -> None:
                if previews is not None:
                    previews(Preview(position, index, partial, progress, picture))

            result = builtin_edits.draw(self._illustrator, request, index, preview)
            data = encode_image(result.image, request.output_format, request.output_compression)
            images.append(
                GeneratedImage(
                    data=data,
                    media_type=media_type(request.output_format),
                    revised_prompt=result.understood,
                )
            )
        return images

    def _generate_one(self, request: ImageRequest) -> list[GeneratedImage]:
        images = []
        for index in range(request.n):
            drawing = self._illustrator.draw(
                request.prompt,
                width=request.width,
                height=request.height,
                seed=request.seed + index,
                style=request.style if request.style not in (None, "vivid", "natural") else None,
                transparent=request.background == "transparent",
            )
            data = encode_image(drawing.image, request.output_format, request.output_compression)
            images.append(
                GeneratedImage(
                    data=data,
                    media_type=media_type(request.output_format),
                    revised_prompt=drawing.understood,
                )
            )
        return images
