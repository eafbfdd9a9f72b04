"""Engines that misbehave on purpose, loaded by `gouache serve` through `engine = "module:Class"`."""

from __future__ import annotations

import time
from collections.abc import Sequence

from gouache.engines import GeneratedImage, ImageRequest
from gouache.engines.instant import InstantEngine
from gouache.errors import ContentFiltered, GenerationFailed


class SlowSetupEngine(InstantEngine):
    """Loads for `setup_s` seconds, like a large model would."""

    def setup(self) -> None:
        time.sleep(float(self.options.get("setup_s", 2.0)))


class BrokenSetupEngine(InstantEngine):
    def setup(self) -> None:
        raise FileNotFoundError("model folder /nowhere/model does not exist")


class FailingEngine(InstantEngine):
    """Refuses prompts containing 'forbidden' and fails on prompts containing 'explode'."""

    def generate(self, requests: Sequence[ImageRequest]) -> list[list[GeneratedImage]]:
        for request in requests:
            if "forbidden" in request.prompt:
                raise ContentFiltered()
            if "explode" in request.prompt:
                raise GenerationFailed("the engine ran out of memory drawing 5 images at 1024x1024")
            if "crash" in request.prompt:
                raise RuntimeError("unexpected bug")
        return super().generate(requests)
