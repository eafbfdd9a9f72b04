"""Engines: one contract (`gouache.engines.base`), many implementations, one registry."""

from gouache.engines.base import Engine, GeneratedImage, ImageRequest
from gouache.engines.registry import create_engine, engine_names, register_engine

__all__ = [
    "Engine",
    "GeneratedImage",
    "ImageRequest",
    "create_engine",
    "engine_names",
    "register_engine",
]
