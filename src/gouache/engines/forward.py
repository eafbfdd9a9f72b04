"""The forwarding engine: another image service (Azure OpenAI, OpenAI, another gouache) draws.

gouache stays the front door: it validates, queues, records who asked, and keeps the returned
bytes in its own storage behind its own expiring links, exactly as for a local engine. Only the
drawing is delegated. Three upstream wire styles (`api` option):

- "azure": `POST {endpoint}/openai/deployments/{deployment}/images/generations?api-version=...`
- "azure-async": the DALL-E 2 preview `.../images/generations:submit`, then polling the
  `operation-location` it returns, honouring `retry-after`
- "openai": `POST {endpoint}/v1/images/generations` with `model` in the body

Edits and variations are relayed in the upstream's own style: multipart `POST .../v1/images/edits`
and `.../v1/images/variations` for "openai", `POST .../openai/deployments/{d}/images/edits` for
"azure" (at api-version 2025-04-01-preview or later, the first to have edits; Azure has no
variations). The DALL-E 2 preview API ("azure-async") has neither.

`b64_json` is asked for where the upstream supports it (one round trip); where only URLs come back
they are downloaded without the API key (links are pre-signed, and the key must never leave for
another host).

The engine runs in a worker thread, so it uses httpx's sync client. `api_key_env` names an
environment variable read once in the constructor: the one environment read outside
`gouache.settings`, so secrets need not be written into the config file.
"""

from __future__ import annotations

import base64
import io
import logging
import os
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from gouache.engines.base import Engine, GeneratedImage, ImageRequest
from gouache.engines.forward_errors import (
    error_from_response,
    operation_error,
    parse_retry_after,
    transport_error,
)
from gouache.errors import (
    ConfigError,
    GenerationFailed,
    GouacheError,
    InvalidRequest,
    UpstreamError,
)

logger = logging.getLogger("gouache.engines.forward")

APIS = ("azure", "azure-async", "openai")
DEFAULT_API_VERSIONS = {"azure": "2024-10-21", "azure-async": "2023-06-01-preview"}
# The first Azure api-version with the images/edits route; older configured versions are raised
# to it for edits only (generations keep the configured one).
AZURE_EDITS_API_VERSION = "2025-04-01-preview"
_OPTIONS = {
    "api",
    "endpoint",
    "api_key",
    "api_key_env",
    "deployment",
    "model",
    "api_version",
    "timeout_s",
    "response_format",
    "poll_max_s",
}
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


def sniff_media_type(data: bytes) -> str | None:
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


class ForwardEngine(Engine):
    name = "forward"
    max_batch_images = 1
    batch_window_s = 0.0
    supports_edits = True
    supports_variations = True

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        opts = self.options
        unknown = sorted(set(opts) - _OPTIONS)
        if unknown:
            raise ConfigError(
                f"unknown forward option(s) {unknown}; allowed: {', '.join(sorted(_OPTIONS))}"
            )
        self.api = opts.get("api")
        if self.api not in APIS:
            raise ConfigError(
                f"forward option api must be one of {', '.join(APIS)}, got {self.api!r}"
            )
        endpoint = opts.get("endpoint")
        if not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")):
            raise ConfigError(
                "forward option endpoint must be the upstream's base URL, e.g. "
                f"https://RESOURCE.openai.azure.com or http://127.0.0.1:8001; got {endpoint!r}"
            )
        self.endpoint = endpoint.rstrip("/")
        self.api_key = self._read_key(opts)
        self.deployment = opts.get("deployment")
        self.model = opts.get("model")
        if self.api == "azure" and not self.deployment:
            raise ConfigError(
                'forward option deployment is required with api = "azure" '
                "(the Azure deployment name in /openai/deployments/{deployment}/...)"
            )
        self.api_version = str(opts.get("api_version") or DEFAULT_API_VERSIONS.get(self.api, ""))
        self.timeout_s = float(opts.get("timeout_s", 300))
        if self.timeout_s <= 0:
            raise ConfigError("forward option timeout_s must be positive")
        default_format = "url" if self.api == "azure-async" else "b64_json"
        self.response_format = opts.get("response_format", default_format)
        if self.response_format not in ("url", "b64_json"):
            raise ConfigError("forward option response_format must be url or b64_json")
        self.poll_max_s = float(opts.get("poll_max_s", 10))
        # What this upstream's wire style can relay (the API refuses the rest up front).
        self.supports_edits = self.api != "azure-async"  # type: ignore[misc]
        self.supports_variations = self.api == "openai"  # type: ignore[misc]
        self._client: httpx.Client | None = None
        self._closing = threading.Event()
        self._client_lock = threading.Lock()

    @staticmethod
    def _read_key(opts: Mapping[str, Any]) -> str | None:
        if opts.get("api_key") and opts.get("api_key_env"):
            raise ConfigError("forward options api_key and api_key_env are exclusive; use one")
        env_name = opts.get("api_key_env")
        if env_name:
            # The one allowed environment read outside settings: keeps secrets out of config files.
            key = os.environ.get(str(env_name))
            if not key:
                raise ConfigError(
                    f"forward option api_key_env = {env_name!r}, but that environment variable "
                    "is not set or empty"
                )
            return key
        key = opts.get("api_key")
        return str(key) if key else None

    # -- lifecycle --------------------------------------------------------------------------------

    def setup(self) -> None:
        self._closing.clear()
        self._http()

    def _http(self) -> httpx.Client:
        with self._client_lock:
            if self._client is None:
                self._client = self._make_client()
            return self._client

    def _make_client(self) -> httpx.Client:
        """Separate hook so tests can hand in an httpx.MockTransport."""
        return httpx.Client(timeout=self.timeout_s, follow_redirects=True)

    def close(self) -> None:
        self._closing.set()
        with self._client_lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def describe(self) -> dict[str, Any]:
        described = {"engine": self.name, "api": self.api, "endpoint": self.endpoint}
        if self.deployment:
            described["deployment"] = self.deployment
        if self.model:
            described["model"] = self.model
        return described

    # -- requests ---------------------------------------------------------------------------------

    def _auth_headers(self) -> dict[str, str]:
        if not self.api_key:
            return {}
        if self.api == "openai":
            return {"authorization": f"Bearer {self.api_key}"}
        return {"api-key": self.api_key}

    def _url(self, path: str) -> str:
        return f"{self.endpoint}{path}"

    def _query(self) -> dict[str, str]:
        return {"api-version": self.api_version} if self.api != "openai" else {}

    def _body(self, request: ImageRequest) -> dict[str, Any]:
        body: dict[str, Any] = {"prompt": request.prompt, "n": request.n, "size": request.size}
        if self.api == "azure-async":
            if self.model:  # picks the upstream deployment where the upstream supports it
                body["model"] = self.model
            return body  # the preview API knows nothing else
        body["response_format"] = self.response_format
        if self.api == "openai" and self.model:
            body["model"] = self.model
        for name in ("quality", "style", "background", "output_compression"):
            value = getattr(request, name)
            if value is not None:
                body[name] = value
        if request.output_format != "png":
            body["output_format"] = request.output_format
        return body

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http().request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise transport_error(exc, self.endpoint, self.timeout_s) from exc
        if response.status_code >= 400:
            raise error_from_response(response, self.endpoint)
        return response

    def generate(self, requests: Sequence[ImageRequest]) -> list[list[GeneratedImage]]:
        for request in requests:
            refused = self.refusal(request)
            if refused is not None:
                raise refused
        return [self._generate_one(request) for request in requests]

    def refusal(self, request: ImageRequest) -> GouacheError | None:
        if request.operation == "variation" and self.api != "openai":
            return InvalidRequest(
                "this deployment forwards to Azure OpenAI, which has no image variations "
                "endpoint; send variations to a deployment forwarding to an OpenAI-style "
                "upstream, or use an edit with a prompt",
                param="image",
            )
        if request.operation == "edit" and self.api == "azure-async":
            return InvalidRequest(
                "this deployment forwards to the Azure DALL-E 2 preview API, which has no image "
                'edits; use forward option api = "azure" with an api_version of '
                f"{AZURE_EDITS_API_VERSION} or later",
                param="image",
            )
        return super().refusal(request)

    def _edit_path(self, request: ImageRequest) -> tuple[str, dict[str, str]]:
        """Route and query for an edit or variation in this upstream's style."""
        if self.api == "azure":
            version = max(self.api_version, AZURE_EDITS_API_VERSION)
            if not version[:4].isdigit():  # "v1", "preview": the v1 surface, kept as given
                version = self.api_version
            return f"/openai/deployments/{self.deployment}/images/edits", {"api-version": version}
        route = "edits" if request.operation == "edit" else "variations"
        prefix = "" if self.endpoint.endswith("/v1") else "/v1"
        return f"{prefix}/images/{route}", {}

    def _multipart(
        self, request: ImageRequest
    ) -> tuple[dict[str, str], list[tuple[str, tuple[str, bytes, str]]]]:
        """Form fields and files of an edit or variation, as the official SDKs send them: one
        image as `image`, several as repeated `image[]`."""
        fields: dict[str, str] = {"n": str(request.n), "size": request.size}
        if request.operation == "edit":
            fields["prompt"] = request.prompt
        if self.api == "openai" and self.model:
            fields["model"] = self.model
        fields["response_format"] = self.response_format
        if request.operation == "edit":
            for name in ("quality", "background", "output_compression", "input_fidelity"):
                value = getattr(request, name)
                if value is not None:
                    fields[name] = str(value)
            if request.output_format != "png":
                fields["output_format"] = request.output_format
        name = "image" if len(request.images) == 1 else "image[]"
        files = [
            (name, _upload(image, f"image-{index}")) for index, image in enumerate(request.images)
        ]
        if request.mask is not None:
            files.append(("mask", _upload(request.mask, "mask")))
        return fields, files

    def _generate_one(self, request: ImageRequest) -> list[GeneratedImage]:
        started = time.perf_counter()
        operation_url = None
        if request.operation != "generate":
            path, query = self._edit_path(request)
            fields, files = self._multipart(request)
            response = self._send(
                "POST",
                self._url(path),
                params=query,
                data=fields,
                files=files,
                headers=self._auth_headers(),
            )
            items = self._data(response.json())
        elif self.api == "azure-async":
            items, operation_url = self._submit_and_poll(request)
        else:
            path = (
                f"/openai/deployments/{self.deployment}/images/generations"
                if self.api == "azure"
                else (
                    "/images/generations"
                    if self.endpoint.endswith("/v1")
                    else "/v1/images/generations"
                )
            )
            response = self._send(
                "POST",
                self._url(path),
                params=self._query(),
                json=self._body(request),
                headers=self._auth_headers(),
            )
            items = self._data(response.json())
        images = [self._image(item, request) for item in items]
        if operation_url:
            self._forget(operation_url)
        if len(images) != request.n:
            raise UpstreamError(
                f"the upstream image service {self.endpoint} returned {len(images)} images "
                f"for n={request.n}",
                status_code=502,
                code="upstreamMismatch",
            )
        logger.info(
            "forwarded %s of %d image(s) at %s to %s in %.2fs",
            request.operation,
            request.n,
            request.size,
            self.endpoint,
            time.perf_counter() - started,
        )
        return images

    def _data(self, body: Any) -> list[dict[str, Any]]:
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise UpstreamError(
                f"the upstream image service {self.endpoint} answered without a data list",
                status_code=502,
                code="upstreamInvalidResponse",
            )
        return data

    def _submit_and_poll(self, request: ImageRequest) -> tuple[list[dict[str, Any]], str]:
        """Azure DALL-E 2 preview: submit, then poll the operation until it ends; return the
        result items and the operation's URL."""
        headers = self._auth_headers()
        response = self._send(
            "POST",
            self._url("/openai/images/generations:submit"),
            params=self._query(),
            json=self._body(request),
            headers=headers,
        )
        submitted = response.json()
        location = response.headers.get("operation-location")
        if location:
            location = str(httpx.URL(self.endpoint + "/").join(location))
        else:
            operation_id = submitted.get("id") if isinstance(submitted, dict) else None
            if not operation_id:
                raise UpstreamError(
                    f"the upstream image service {self.endpoint} accepted the request but gave "
                    "no operation-location or id",
                    status_code=502,
                    code="upstreamInvalidResponse",
                )
            location = str(
                httpx.URL(
                    self._url(f"/openai/operations/images/{operation_id}"), params=self._query()
                )
            )
        deadline = time.monotonic() + self.timeout_s
        operation = submitted if isinstance(submitted, dict) else {}
        wait = parse_retry_after(response.headers)
        while operation.get("status") not in ("succeeded", "failed", "canceled", "deleted"):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise UpstreamError(
                    f"the upstream image service {self.endpoint} did not finish operation "
                    f"{operation.get('id', location)} within {self.timeout_s:g} s",
                    status_code=504,
                    code="upstreamTimeout",
                )
            if self._closing.wait(min(max(wait, 0.05), self.poll_max_s, remaining)):
                raise GenerationFailed("the engine shut down while waiting for the upstream")
            poll = self._send("GET", location, headers=headers)
            operation = poll.json()
            wait = parse_retry_after(poll.headers)
        if operation["status"] != "succeeded":
            raise operation_error(operation.get("error"), self.endpoint, operation["status"])
        return self._data(operation.get("result") or {}), location

    def _forget(self, location: str) -> None:
        """Delete the upstream operation once its images are downloaded: they now live (and
        expire) in gouache's storage, and need not linger upstream. Best effort."""
        try:
            self._http().delete(location, headers=self._auth_headers())
        except httpx.HTTPError as exc:
            logger.info("could not delete upstream operation %s: %s", location, exc)

    def _image(self, item: Mapping[str, Any], request: ImageRequest) -> GeneratedImage:
        if isinstance(item.get("error"), Mapping):
            # Azure marks single filtered images this way; our contract has no partial results.
            raise operation_error(item["error"], self.endpoint, "failed")
        if item.get("b64_json"):
            data = base64.b64decode(item["b64_json"])
        elif item.get("url"):
            data = self._download(str(item["url"]))
        else:
            raise UpstreamError(
                f"the upstream image service {self.endpoint} returned an image with neither "
                "b64_json nor url",
                status_code=502,
                code="upstreamInvalidResponse",
            )
        kind = sniff_media_type(data)
        if kind is None:
            raise UpstreamError(
                f"the upstream image service {self.endpoint} returned bytes that are not an image",
                status_code=502,
                code="upstreamInvalidResponse",
            )
        return GeneratedImage(
            data=data, media_type=kind, revised_prompt=item.get("revised_prompt") or request.prompt
        )

    def _download(self, url: str) -> bytes:
        # No auth headers: image links are pre-signed and may live on another host.
        try:
            response = self._http().get(url)
        except httpx.HTTPError as exc:
            raise transport_error(exc, self.endpoint, self.timeout_s) from exc
        if response.status_code >= 400:
            error: GouacheError = error_from_response(response, self.endpoint)
            raise UpstreamError(
                f"downloading an image from the upstream image service failed: "
                f"HTTP {response.status_code} ({error.message})",
                status_code=502,
                code="upstreamDownloadFailed",
            )
        return response.content


def _upload(image: object, stem: str) -> tuple[str, bytes, str]:
    """(filename, bytes, media type) of an input image: stored bytes as they are, a decoded
    image (in-process callers) as PNG."""
    if isinstance(image, bytes | bytearray | memoryview):
        data = bytes(image)
    else:
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")  # type: ignore[attr-defined]
        data = buffer.getvalue()
    kind = sniff_media_type(data) or "application/octet-stream"
    extension = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}.get(kind, "bin")
    return f"{stem}.{extension}", data, kind
