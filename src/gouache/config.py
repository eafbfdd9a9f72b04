"""Deployments and the config file.

The config file is TOML with an optional `[server]` table (see `gouache.settings`) and
`[deployments.NAME]` tables. Without any deployment table gouache serves the three defaults below,
all drawn by the built-in engine.

    [deployments.sd-turbo]
    profile = "dall-e-2"            # request rules: dall-e-2 | dall-e-3 | gpt-image-1
    engine = "diffusers"            # builtin | diffusers | forward | instant | pkg.module:Class
    sizes = ["512x512"]             # optional: narrows the profile's sizes
    max_n = 4                       # optional
    workers = 1                     # optional: engine instances (threads) for this deployment
    [deployments.sd-turbo.options]  # handed to the engine as is
    model = "/models/sd-turbo"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from gouache.errors import ConfigError
from gouache.profiles import PROFILES, Profile


@dataclass(frozen=True)
class Deployment:
    name: str
    profile: Profile
    engine: str = "builtin"
    options: dict[str, Any] = field(default_factory=dict)
    workers: int = 1

    @property
    def sizes(self) -> tuple[str, ...]:
        return self.profile.sizes

    @property
    def max_n(self) -> int:
        return self.profile.max_n


def default_deployments(engine: str = "builtin") -> dict[str, Deployment]:
    return {name: Deployment(name=name, profile=PROFILES[name], engine=engine) for name in PROFILES}


_DEPLOYMENT_KEYS = {"profile", "engine", "sizes", "max_n", "prompt_max", "options", "workers"}


def _deployment(name: str, table: dict[str, Any]) -> Deployment:
    unknown = set(table) - _DEPLOYMENT_KEYS
    if unknown:
        raise ConfigError(
            f"deployment {name!r}: unknown keys {sorted(unknown)}; allowed: {sorted(_DEPLOYMENT_KEYS)}"
        )
    profile_name = table.get("profile", "dall-e-2")
    if profile_name not in PROFILES:
        raise ConfigError(
            f"deployment {name!r}: unknown profile {profile_name!r}; allowed: {sorted(PROFILES)}"
        )
    profile = PROFILES[profile_name]
    if "sizes" in table:
        sizes = tuple(table["sizes"])
        bad = [s for s in sizes if s != "auto" and not _is_size(s)]
        if not sizes or bad:
            raise ConfigError(f"deployment {name!r}: sizes must be WIDTHxHEIGHT strings, got {bad}")
        default = profile.default_size if profile.default_size in sizes else sizes[0]
        auto = profile.auto_size if profile.auto_size in sizes else None
        if "auto" in sizes and auto is None:
            auto = next(s for s in sizes if s != "auto")
        profile = replace(profile, sizes=sizes, default_size=default, auto_size=auto)
    if "max_n" in table:
        max_n = table["max_n"]
        if not isinstance(max_n, int) or not 1 <= max_n <= 10:
            raise ConfigError(f"deployment {name!r}: max_n must be an integer 1..10, got {max_n!r}")
        # a deployment's own limit holds on every route
        profile = replace(profile, max_n=max_n, openai_max_n=max_n)
    if "prompt_max" in table:
        profile = replace(profile, prompt_max=int(table["prompt_max"]))
    workers = table.get("workers", 1)
    if not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"deployment {name!r}: workers must be a positive integer")
    options = table.get("options", {})
    if not isinstance(options, dict):
        raise ConfigError(f"deployment {name!r}: options must be a table")
    return Deployment(
        name=name,
        profile=profile,
        engine=str(table.get("engine", "builtin")),
        options=options,
        workers=workers,
    )


def _is_size(value: str) -> bool:
    width, sep, height = value.partition("x")
    return bool(sep) and width.isdigit() and height.isdigit() and int(width) > 0 and int(height) > 0


@dataclass(frozen=True)
class Config:
    server: dict[str, Any]
    deployments: dict[str, Deployment]
    custom_deployments: bool = False

    def deployments_on(self, engine: str | None) -> dict[str, Deployment]:
        """The deployments to serve: the config's, or with `--engine` the default deployments
        on that engine (which only makes sense when the config defines none of its own)."""
        if not engine:
            return self.deployments
        if self.custom_deployments:
            raise ConfigError(
                "--engine applies to the default deployments; the config defines its own"
            )
        return default_deployments(engine)


def load_config(path: Path | None) -> Config:
    if path is None:
        return Config(server={}, deployments=default_deployments())
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {path} does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    unknown = set(raw) - {"server", "deployments"}
    if unknown:
        raise ConfigError(f"config file {path}: unknown tables {sorted(unknown)}")
    tables = raw.get("deployments")
    if tables:
        deployments = {name: _deployment(name, table) for name, table in tables.items()}
    else:
        deployments = default_deployments()
    return Config(
        server=raw.get("server", {}), deployments=deployments, custom_deployments=bool(tables)
    )
