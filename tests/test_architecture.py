"""Dependencies point down (api -> jobs -> engines -> storage); heavy libraries stay optional."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "gouache"

# layer -> gouache packages it must never import
FORBIDDEN = {
    "api": ("gouache.engines.", "gouache.illustrator", "gouache.client"),
    "jobs": ("gouache.api", "gouache.cli", "gouache.client", "gouache.illustrator"),
    "engines": ("gouache.api", "gouache.jobs", "gouache.storage", "gouache.cli"),
    "storage": ("gouache.api", "gouache.jobs", "gouache.engines", "gouache.cli"),
    "illustrator": ("gouache.",),
}
HEAVY = ("torch", "diffusers", "transformers", "accelerate")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layers_import_only_downwards(layer):
    folder = PACKAGE / layer
    files = sorted(folder.rglob("*.py"))
    assert files, f"no modules in {folder}"
    for path in files:
        for name in _imports(path):
            if layer == "illustrator" and name.startswith("gouache.illustrator"):
                continue
            for banned in FORBIDDEN[layer]:
                assert not (name + ".").startswith(banned) or name == "gouache.engines", (
                    f"{path.relative_to(PACKAGE)} imports {name}"
                )


def test_api_layer_imports_engines_only_through_the_contract():
    for path in (PACKAGE / "api").rglob("*.py"):
        assert not any(name.startswith("gouache.engines") for name in _imports(path)), path


def test_serving_never_imports_torch():
    code = (
        "import sys, gouache.api.app, gouache.cli.main, gouache.engines.builtin;"
        "from gouache.cli.main import build_parser; build_parser();"
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
