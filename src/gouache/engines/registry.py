"""Engine registry: names in config map to engine classes, built-in ones included.

Third-party engines register through the `gouache.engines` entry-point group, or by naming a class
directly as `package.module:ClassName` in a deployment's `engine` setting.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from importlib.metadata import entry_points
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


def register_engine(name: str, cls: type[Engine]) -> None:
    _REGISTERED[name] = cls


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
    return engine_class(name)(options)
