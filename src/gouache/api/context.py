"""Per-app objects the routes need, reached through `request.app.state.ctx`."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from gouache.api.auth import KeyChecker
from gouache.api.wire import WireFormatter
from gouache.config import Deployment
from gouache.errors import GouacheError, NotFound
from gouache.jobs.service import OperationService
from gouache.jobs.store import Operation
from gouache.metrics import Metrics
from gouache.settings import Settings


@dataclass
class AppContext:
    settings: Settings
    deployments: dict[str, Deployment]
    service: OperationService
    wire: WireFormatter
    keys: KeyChecker
    metrics: Metrics
    started: int = 0


def ctx(request: Request) -> AppContext:
    return request.app.state.ctx


def stored_error(operation: Operation) -> GouacheError:
    """Rebuild the error a failed operation recorded, to answer a synchronous route with it."""
    record = operation.error or {}
    error = GouacheError(
        record.get("message", "The operation failed."),
        code=record.get("code", "internalFailure"),
        param=record.get("param"),
        inner_error=record.get("inner_error"),
    )
    error.status_code = int(record.get("status_code", 500))
    error.type = record.get("type", "server_error")
    if "retry_after" in record:
        error.headers = {"retry-after": str(record["retry_after"])}
    return error


def find_deployment(
    app: AppContext, name: object, *, code: str, param: str | None = "model"
) -> Deployment:
    """The deployment a request names, or a 404 that lists the ones there are."""
    deployment = app.deployments.get(name) if isinstance(name, str) else None
    if deployment is None:
        raise NotFound(
            f"The deployment '{name}' does not exist on this server. Deployments: "
            f"{', '.join(app.deployments)}.",
            code=code,
            param=param,
        )
    return deployment
