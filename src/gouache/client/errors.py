"""What `generate_images` raises, all under `gouache.errors.GouacheError`.

Input errors reuse `gouache.errors.InvalidRequest` (the same class and words the service uses), so a
caller can catch one type whether the rule was checked here or by a server.
"""

from __future__ import annotations

from gouache.errors import GouacheError, InvalidRequest

__all__ = ["DownloadError", "GenerationTimeout", "InvalidRequest", "RemoteError"]


class RemoteError(GouacheError):
    """The endpoint answered with an error, or an operation ended `failed`/`canceled`/`deleted`.

    `status_code` is the HTTP status (None for a network failure and for a failed operation, whose
    poll answered 200); `code` and `message` are the server's `error.code` and `error.message`.
    """

    type = "remote_error"

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None,
        code: str,
        param: str | None = None,
        operation_id: str | None = None,
    ) -> None:
        super().__init__(message, code=code, param=param)
        self.status_code = status_code  # type: ignore[assignment]
        self.operation_id = operation_id

    def __str__(self) -> str:
        status = f"{self.status_code} " if self.status_code is not None else ""
        code = "" if self.code == str(self.status_code) else f"{self.code}"
        head = f"error {status}{code}".rstrip()
        return f"{head}: {self.message}"


class GenerationTimeout(GouacheError):
    """The images were not ready within the caller's `timeout`. The work may go on server-side:
    `operation_id`/`operation_location` say where to look for it."""

    status_code = 504
    code = "timeout"
    type = "timeout_error"

    def __init__(
        self,
        message: str,
        *,
        operation_id: str | None = None,
        operation_location: str | None = None,
        status: str | None = None,
    ) -> None:
        super().__init__(message)
        self.operation_id = operation_id
        self.operation_location = operation_location
        self.status = status


class DownloadError(GouacheError):
    """An image could not be fetched or is not what was asked for (type, decoding, dimensions)."""

    status_code = 502
    code = "download_failed"
    type = "download_error"
