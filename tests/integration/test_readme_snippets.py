"""The README's pytest and Python snippets run as written (imports included)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

README = Path(__file__).resolve().parents[2] / "README.md"


def _snippet(after: str) -> str:
    """The first ```python block after the line containing ``after``."""
    text = README.read_text(encoding="utf-8")
    start = text.index(after)
    match = re.search(r"```python\n(.*?)```", text[start:], re.S)
    assert match, f"no python block after {after!r}"
    return match.group(1)


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL
    )


def test_the_pytest_snippet_passes_as_a_test_file(tmp_path: Path) -> None:
    (tmp_path / "test_snippet.py").write_text(_snippet("### pytest plugin"))
    done = _run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-n",
            "0",
            "-p",
            "no:cacheprovider",
            "test_snippet.py",
        ],
        tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_python_snippet_runs_as_a_script(tmp_path: Path) -> None:
    (tmp_path / "snippet.py").write_text(_snippet("Using the harness from Python"))
    done = _run([sys.executable, "snippet.py"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Paris attractions" in done.stdout
