"""The illustrator is the engine's model code: it must not import the service around it."""

from __future__ import annotations

import ast
from pathlib import Path

import gouache.illustrator

PACKAGE = Path(gouache.illustrator.__file__).parent


def test_illustrator_imports_nothing_else_from_gouache() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                if name == "gouache" or (
                    name.startswith("gouache.") and not name.startswith("gouache.illustrator")
                ):
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []


def test_illustrator_needs_no_heavy_runtime() -> None:
    banned = {"torch", "transformers", "model2vec", "matplotlib", "scipy", "sentence_transformers"}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert not {a.name.split(".")[0] for a in node.names} & banned, path
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                assert node.module.split(".")[0] not in banned, path
