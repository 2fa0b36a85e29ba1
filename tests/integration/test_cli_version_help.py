"""--version on every command a user runs, and a fake_llm --help a user can read."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata

import pytest

VERSION = metadata.version("topic-enumerator")


@pytest.mark.parametrize(
    ("module", "prog"),
    [
        ("system.orchestrator", "orchestrator"),
        ("system.webserver", "webserver"),
        ("tester", "tester"),
        ("tester.fake_llm", "python -m tester.fake_llm"),
    ],
)
def test_version(module: str, prog: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", module, "--version"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{prog} {VERSION}"


def test_fake_llm_help_is_plain_text_and_documents_every_option() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tester.fake_llm", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert "``" not in text, "reStructuredText markup in --help"
    assert not re.search(r"\b\w+\.py\b", text), "--help points at a source file"
    for kind in ("429", "down", "slow", "hang", "garbage", "truncated", "empty"):
        assert kind in text, f"fault kind {kind} is not explained"
    from tester.fake_llm.cli import build_parser

    undocumented = [
        a.option_strings for a in build_parser()._actions if a.option_strings and not a.help
    ]
    assert not undocumented, f"options without help: {undocumented}"
