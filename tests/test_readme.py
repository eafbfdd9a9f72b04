"""The README's commands stay true: its main command runs and CI runs its test command."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from pathlib import Path

from tests.conftest import png_size

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _first_block_after(heading: str) -> list[str]:
    section = README.split(heading, 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]


def test_main_command_runs_and_prints_the_operation(tmp_path):
    install, main = _first_block_after("## Install and run")
    assert install.startswith("pip install -e .")
    argv = shlex.split(main)
    assert argv[:2] == ["gouache", "generate"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_OPENAI")}
    result = subprocess.run(
        argv, cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env
    )
    assert result.returncode == 0, result.stderr
    operation = json.loads(result.stdout)
    assert operation["status"] == "succeeded"
    assert operation["expires"] - operation["created"] == 86400
    files = sorted((tmp_path / "gouache-images").glob("*.png"))
    assert len(files) == len(operation["result"]["data"]) == 2
    assert all(png_size(path.read_bytes()) == (512, 512) for path in files)
    assert "shoe" in operation["result"]["data"][0]["revised_prompt"]


def test_ci_runs_the_readme_test_command():
    commands = _first_block_after("## Test")
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python -m pytest" in commands
    assert ci.rstrip().endswith("python -m pytest")
    assert "torch==2.13.0" in ci and "'.[dev,diffusers]'" in ci
