"""Engine registry: names in config map to engine classes, built-in ones included.

Third-party engines register through the `gouache.engines` entry-point group, or by naming a class
directly as `package.module:ClassName` in a deployment's `engine` setting.

An engine class that declares `shared = True` gets one instance per process for each set of
options: the three default deployments and all their worker threads draw with one built-in
engine instead of loading one each.
"""

from __future__ import annotations

import importlib
import json
import threading
from collections.abc import Mapping
from typing import Any

from gouache.engines.base import Engine
from gouache.errors import ConfigError

# Built-in engines are imported lazily: the diffusers one pulls torch, which the core never needs.
_BUILTIN: dict[str, str] = {
    "builtin": "gouache.engines.builtin:BuiltinEngine",
    "instant": "gouache.engines.instant:InstantEngine",
    "diffusers": "gouache.engines.diffusers:DiffusersEngine",
    "forward": "gouache.engines.forward:ForwardEngine",
}
_REGISTERED: dict[str, type[Engine]] = {}
_SHARED: dict[tuple[type[Engine], str], Engine] = {}
_SHARED_LOCK = threading.Lock()


def register_engine(name: str, cls: type[Engine]) -> None:
    _REGISTERED[name] = cls


def entry_points(group: str) -> Any:
    """Installed plugins' entry points; importlib.metadata is imported only when asked."""
    from importlib.metadata import entry_points as installed

    return installed(group=group)


def engine_names() -> list[str]:
    names = set(_BUILTIN) | set(_REGISTERED)
    names |= {ep.name for ep in entry_points(group="gouache.engines")}
    return sorted(names)


def _load(target: str) -> type[Engine]:
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        hint = (
            " (install it with: pip install 'gouache[diffusers]')" if "diffusers" in target else ""
        )
        raise ConfigError(f"engine {target!r} cannot be imported: {exc}{hint}") from exc
    cls = getattr(module, attr, None)
    if not (isinstance(cls, type) and issubclass(cls, Engine)):
        raise ConfigError(f"{target!r} is not a gouache Engine class")
    return cls


def engine_class(name: str) -> type[Engine]:
    if name in _REGISTERED:
        return _REGISTERED[name]
    if name in _BUILTIN:
        return _load(_BUILTIN[name])
    for ep in entry_points(group="gouache.engines"):
        if ep.name == name:
            return ep.load()
    if ":" in name:
        return _load(name)
    raise ConfigError(f"unknown engine {name!r}; known engines: {', '.join(engine_names())}")


def create_engine(name: str, options: Mapping[str, Any] | None = None) -> Engine:
    """A new engine, or for a `shared` engine class the process's instance for these options."""
    cls = engine_class(name)
    if not cls.shared:
        return cls(options)
    key = (cls, json.dumps(dict(options or {}), sort_keys=True, default=repr))
    with _SHARED_LOCK:
        engine = _SHARED.get(key)
        if engine is None:
            engine = _SHARED[key] = cls(options)
        return engine
