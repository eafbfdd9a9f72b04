"""From the `storage` setting to an image store: a folder path, or `s3://`, `az://`, `gs://`.

The checks that need no network run first (`check_storage`), so that a typo in a URL or a
`links = "redirect"` over a local folder stops the server at start-up with a clear message
instead of failing on the first image.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gouache.errors import ConfigError
from gouache.settings import Settings
from gouache.storage.base import ImageStore
from gouache.storage.local import LocalImageStore

OBJECT_SCHEMES = ("s3", "az", "gs")
LINK_MODES = ("stream", "redirect")
_ENDPOINT_SCHEMES = ("s3", "az")
_CREDENTIALS = {
    "s3": "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION (or an instance role)",
    "az": "AZURE_STORAGE_ACCOUNT_NAME with AZURE_STORAGE_ACCOUNT_KEY or a managed identity",
    "gs": "GOOGLE_SERVICE_ACCOUNT (a key file) or the machine's default credentials",
}


def _scheme(location: str) -> str:
    """The URL scheme, or "" for a folder path (including Windows-style `C:\\...`)."""
    if "://" not in location:
        return ""
    return location.split("://", 1)[0].lower()


def check_storage(storage: str, endpoint: str = "", links: str = "stream") -> None:
    """Reject what cannot work before anything is built: unknown schemes, a URL without a
    bucket, an endpoint for a store that takes none, redirect links over a local folder."""
    if links not in LINK_MODES:
        raise ConfigError(
            f"setting 'links' is {links!r}; allowed: 'stream' (this server sends the image "
            "bytes) or 'redirect' (302 to a presigned storage URL, object storage only)"
        )
    scheme = _scheme(storage)
    if scheme not in ("", "file", *OBJECT_SCHEMES):
        raise ConfigError(
            f"setting 'storage' has the scheme {scheme}://, which is not supported; use a folder "
            "path, s3://bucket/prefix, az://container/prefix or gs://bucket/prefix"
        )
    if scheme in OBJECT_SCHEMES and not urlsplit(storage).netloc:
        raise ConfigError(
            f"setting 'storage' is {storage!r}, which names no bucket or container; write "
            f"{scheme}://NAME or {scheme}://NAME/prefix"
        )
    if endpoint and scheme not in _ENDPOINT_SCHEMES:
        raise ConfigError(
            "setting 'storage_endpoint' is set, but it applies only to s3:// (S3-compatible "
            "stores) and az:// storage; remove it or set 'storage' to such a URL"
        )
    if endpoint and not endpoint.startswith(("http://", "https://")):
        raise ConfigError(
            f"setting 'storage_endpoint' is {endpoint!r}; it must be an http:// or https:// URL"
        )
    if links == "redirect" and scheme not in OBJECT_SCHEMES:
        raise ConfigError(
            "links = 'redirect' needs object storage (s3://, az:// or gs://) to sign storage "
            "URLs; with a local folder use links = 'stream'"
        )


def from_url(storage: str, *, default_folder: Path, endpoint: str = "") -> ImageStore:
    """The image store for a `storage` setting; an empty setting is `default_folder`."""
    check_storage(storage, endpoint)
    scheme = _scheme(storage)
    if scheme == "":
        return LocalImageStore(Path(storage).expanduser() if storage else default_folder)
    if scheme == "file":
        return LocalImageStore(Path(urlsplit(storage).path))
    return _object_store(storage, scheme, endpoint)


def image_store_for(settings: Settings) -> ImageStore:
    """The image store the settings ask for (the data dir's `images` folder by default)."""
    check_storage(settings.storage, settings.storage_endpoint, settings.links)
    return from_url(
        settings.storage,
        default_folder=Path(settings.data_dir) / "images",
        endpoint=settings.storage_endpoint,
    )


def _object_store(url: str, scheme: str, endpoint: str) -> ImageStore:
    # Imported here: a server on a local folder never loads the object-store client.
    try:
        from obstore.exceptions import BaseError
        from obstore.store import AzureStore, GCSStore, S3Store
    except ImportError as exc:
        raise ConfigError(
            f"{scheme}:// storage needs the obstore package: pip install 'gouache[storage]'"
        ) from exc

    from gouache.storage.objects import RETRY, TIMEOUTS, ObjectImageStore

    client: dict[str, Any] = dict(TIMEOUTS)
    config: dict[str, Any] = {}
    if endpoint:
        config["endpoint"] = endpoint
        client["allow_http"] = endpoint.startswith("http://")
    kinds = {"s3": S3Store, "az": AzureStore, "gs": GCSStore}
    try:
        store = kinds[scheme].from_url(url, client_options=client, retry_config=RETRY, **config)
    except (BaseError, ValueError) as exc:
        raise ConfigError(
            f"cannot use the {scheme}:// storage: {exc}. Credentials and options come from "
            f"the environment: {_CREDENTIALS[scheme]}."
        ) from exc
    return ObjectImageStore(store, scheme)
