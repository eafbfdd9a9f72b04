"""Image bytes and the signed links that reach them."""

from gouache.storage.base import ImageBody, ImageStore
from gouache.storage.local import LocalImageStore
from gouache.storage.location import check_storage, from_url, image_store_for
from gouache.storage.signing import (
    LinkSigner,
    check_link_secret,
    link_secret,
    load_or_create_secret,
)

__all__ = [
    "ImageBody",
    "ImageStore",
    "LinkSigner",
    "LocalImageStore",
    "check_link_secret",
    "check_storage",
    "from_url",
    "image_store_for",
    "link_secret",
    "load_or_create_secret",
]
