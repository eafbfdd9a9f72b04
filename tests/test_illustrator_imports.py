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


def test_illustrator_modules_import_in_one_direction() -> None:
    """The pipeline reads top-down: no module imports, directly or through others, a module
    that imports it back (parse and concepts used to)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.glob("*.py")):
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    deps.add(node.module.split(".")[0])
                else:
                    deps.update(alias.name for alias in node.names)
        graph[path.stem] = deps

    def reaches(start: str, target: str) -> bool:
        seen, todo = set(), list(graph.get(start, ()))
        while todo:
            module = todo.pop()
            if module == target:
                return True
            if module not in seen:
                seen.add(module)
                todo.extend(graph.get(module, ()))
        return False

    circles = sorted(m for m in graph if reaches(m, m))
    assert circles == []


def test_word_lists_are_data_files() -> None:
    """Lexicons, figure recipes and room templates live in data/, not in code."""
    import json

    data = PACKAGE / "data"
    lexicon = json.loads((data / "lexicon.json").read_text(encoding="utf-8"))
    words = json.loads((data / "words.json").read_text(encoding="utf-8"))
    assert {"aliases", "foreign", "figures", "rooms", "room_words", "chart_words"} <= set(lexicon)
    assert {"counts", "settings", "relations", "stopwords"} <= set(words)
