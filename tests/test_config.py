"""Deployments from a config file, and what `--engine` may change of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from gouache.config import load_config
from gouache.errors import ConfigError


def test_engine_replaces_the_engine_of_the_default_deployments():
    config = load_config(None)
    assert {d.engine for d in config.deployments_on(None).values()} == {"builtin"}
    swapped = config.deployments_on("instant")
    assert set(swapped) == set(config.deployments)
    assert {d.engine for d in swapped.values()} == {"instant"}


def test_engine_is_refused_where_the_config_defines_its_own_deployments(tmp_path: Path):
    path = tmp_path / "gouache.toml"
    path.write_text('[deployments.house]\nprofile = "dall-e-3"\nengine = "instant"\n')
    config = load_config(path)
    assert list(config.deployments_on(None)) == ["house"]
    with pytest.raises(ConfigError, match="--engine applies to the default deployments"):
        config.deployments_on("builtin")
