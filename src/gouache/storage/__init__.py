"""Image bytes and the signed links that reach them."""

from gouache.storage.local import LocalImageStore
from gouache.storage.signing import LinkSigner, load_or_create_secret

__all__ = ["LinkSigner", "LocalImageStore", "load_or_create_secret"]
