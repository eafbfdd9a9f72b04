"""What a browser is told about gouache's responses: sniffing off, framing off, a strict content
policy for the web page, and cross-origin access only for origins an operator names."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from gouache.settings import Settings

# Everything but the page: nothing in a JSON body or an image may run, load or be framed.
API_POLICY = "default-src 'none'; frame-ancestors 'none'"


def page_policy(public_url: str) -> str:
    """The web page's policy: its own script and styles only, no inline code, no framing.

    Image links and operation URLs carry `public_url`'s origin when one is set, which may differ
    from the page's own, so that origin may be loaded from too."""
    extra = ""
    if public_url:
        parts = urlsplit(public_url)
        extra = f" {parts.scheme}://{parts.netloc}"
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        f"img-src 'self' data: blob:{extra}; connect-src 'self'{extra}; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )


class SecurityHeaders:
    """The browser headers every HTTP response carries (added by `guards.RequestGuards`), built
    once: the page's and the API's."""

    def __init__(self, settings: Settings) -> None:
        common = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
        ]
        self.page = (
            *common,
            (b"content-security-policy", page_policy(settings.public_url).encode()),
        )
        self.api = (*common, (b"content-security-policy", API_POLICY.encode()))
        self.names = frozenset(name for name, _ in self.api)

    def add(self, headers: Iterable[tuple[bytes, bytes]], path: str) -> list[tuple[bytes, bytes]]:
        """`headers` with the browser headers it does not set itself appended."""
        headers = list(headers)
        extra = self.page if path == "/" else self.api
        names = self.names
        if any(name.lower() in names for name, _ in headers):
            present = {name.lower() for name, _ in headers}
            return headers + [(name, value) for name, value in extra if name not in present]
        return headers + list(extra)


def cors(settings: Settings) -> list[Middleware]:
    """CORS for the configured origins only; with none configured, no CORS headers at all, so
    a page on another origin can neither read answers nor send a preflighted request."""
    if not settings.cors_origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["api-key", "authorization", "content-type"],
            expose_headers=[
                "operation-location",
                "retry-after",
                "retry-after-ms",
                "x-ms-error-code",
            ],
            max_age=600,
        )
    ]
