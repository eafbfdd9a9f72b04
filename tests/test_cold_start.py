"""`gouache generate` in-process starts fast because it imports only what it uses: no database
layer, no HTTP client, no web framework. Each check runs a fresh interpreter and reads
`sys.modules` after a real generation (timings belong in bench/builtin.py, not here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# The serving stack and the optional model stack: none of it is needed to draw in-process.
HEAVY_FOR_LOCAL = ("sqlalchemy", "httpx", "starlette", "uvicorn", "torch", "diffusers")

PROBE = """
import json, sys
from gouache.cli.main import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def loaded_after(args: list[str], cwd: Path) -> set[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_OPENAI", "OPENAI_"))}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["code"] == 0, done.stderr
    return {name.split(".")[0] for name in report["modules"]}


@pytest.mark.parametrize("engine", ["builtin", "instant"])
def test_local_generate_imports_no_database_http_or_web_framework(tmp_path, engine):
    loaded = loaded_after(
        ["generate", "a red apple on a table", "--size", "256x256", "--engine", engine], tmp_path
    )
    assert "gouache" in loaded and "PIL" in loaded  # the probe saw a real run
    assert sorted(loaded & set(HEAVY_FOR_LOCAL)) == []
    assert sorted((tmp_path / "gouache-images").iterdir())


def test_building_the_command_line_imports_no_database_http_or_numpy():
    """Every sub-command's module is imported to build the parser: they must all stay light."""
    probe = "import sys\nfrom gouache.cli.main import build_parser\nbuild_parser()\n"
    probe += "print(' '.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = {name.split(".")[0] for name in done.stdout.split()}
    assert sorted(loaded & {"sqlalchemy", "httpx", "starlette", "uvicorn", "numpy"}) == []
