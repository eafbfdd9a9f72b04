"""gouache: a self-hosted image generation service speaking the Azure OpenAI and OpenAI image APIs."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "generate_images", "agenerate_images", "make_deck", "make_brand_kit"]


def __getattr__(name: str) -> Any:
    # The client pulls in httpx and the engines; keep `import gouache` itself cheap.
    if name in ("generate_images", "agenerate_images"):
        from gouache import client

        return getattr(client, name)
    if name in ("make_deck", "make_brand_kit"):
        # python-pptx (the `decks` extra) is imported only when a deck is written
        from gouache import decks

        return getattr(decks, name)
    raise AttributeError(name)
