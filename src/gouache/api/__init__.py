"""HTTP surface: Azure async and deployment routes, OpenAI routes, image links, health, metrics."""

from gouache.api.app import create_app

__all__ = ["create_app"]
