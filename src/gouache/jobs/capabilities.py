"""What a deployment's engine can do besides generating, asked before an operation is accepted.

The answer comes from an engine built from the deployment's options: constructing an engine is
cheap and loads nothing (weights load in `setup()`, which this never calls), and the flags may
depend on the options. One answer per deployment is kept for the life of the process.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from gouache.config import Deployment
from gouache.engines import create_engine
from gouache.errors import GouacheError

log = logging.getLogger("gouache.jobs")


@dataclass(frozen=True)
class Capabilities:
    edits: bool = False
    variations: bool = False
    previews: bool = False
    engine: str = ""


_KNOWN: dict[tuple[str, str], Capabilities] = {}
_LOCK = threading.Lock()


def capabilities(deployment: Deployment) -> Capabilities:
    key = (deployment.name, deployment.engine)
    with _LOCK:
        known = _KNOWN.get(key)
    if known is not None:
        return known
    try:
        engine = create_engine(deployment.engine, deployment.options)
    except (GouacheError, ImportError) as exc:
        # the workers report a broken engine at start; here it simply can do nothing extra
        log.warning("capabilities of deployment %r unknown: %s", deployment.name, exc)
        return Capabilities(engine=deployment.engine)
    found = Capabilities(
        edits=bool(engine.supports_edits),
        variations=bool(engine.supports_variations),
        previews=bool(engine.supports_previews),
        engine=engine.name,
    )
    with _LOCK:
        _KNOWN[key] = found
    return found
