"""The built-in engine: a thin adapter over `gouache.illustrator`, which draws offline on a CPU."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gouache.engines import builtin_edits
from gouache.engines.base import Engine, GeneratedImage, ImageRequest, Preview, PreviewSink
from gouache.engines.encoding import encode_image, media_type


class BuiltinEngine(Engine):
    name = "builtin"
    supports_edits = True
    supports_variations = True
    supports_previews = True

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self._illustrator: Any = None

    def setup(self) -> None:
        from gouache.illustrator import Illustrator

        self._illustrator = Illustrator()
        # Warm-up: loads the encoder, fonts and glyph index so the first user request is not slow.
        self._illustrator.draw("a red apple on a table", width=256, height=256, seed=0)

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
