"""Every setting is documented: docs/configuration.md carries the generated table verbatim."""

from __future__ import annotations

from pathlib import Path

import pytest

from gouache.errors import ConfigError
from gouache.settings import Settings, load_settings, settings_markdown
from gouache.tenants import hashed_name

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def test_configuration_doc_has_the_generated_table():
    assert settings_markdown() in DOC.read_text(), (
        "docs/configuration.md is out of date: regenerate the table with "
        "`python -m gouache.settings`"
    )


def test_precedence_defaults_file_environment_flags():
    settings = load_settings(
        {"port": 9000, "queue_max": 5},
        {"port": 9100},
        environ={"GOUACHE_QUEUE_MAX": "7", "GOUACHE_API_KEYS": "a, b,,"},
    )
    assert settings.port == 9100
    assert settings.queue_max == 7
    assert [key.name for key in settings.api_keys] == [hashed_name("a"), hashed_name("b")]
    assert Settings().operation_ttl_s == 86400


@pytest.mark.parametrize(
    ("file_values", "environ", "words"),
    [
        ({"prot": 1}, {}, "unknown setting 'prot'"),
        ({}, {"GOUACHE_PORT": "eighty"}, "cannot read 'eighty' as int"),
        ({}, {"GOUACHE_INSECURE_NO_AUTH": "maybe"}, "as bool"),
    ],
)
def test_bad_settings_are_clear_errors(file_values, environ, words):
    with pytest.raises(ConfigError, match=words):
        load_settings(file_values, environ=environ)
