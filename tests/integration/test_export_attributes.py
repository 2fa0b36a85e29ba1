"""``export-attributes`` on hostile files (issue 21 item 15): a real process, real pipes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.orchestrator_proc import ROOT

pytestmark = pytest.mark.integration

GOOD = {"key": "0123456789abcdef", "producers": 1, "providers": 1}


def _export(*args: str, stdout: int = subprocess.PIPE) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "system.output.export", *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        timeout=60,
    )


def _line(display: object, sightings: object = 3) -> str:
    return json.dumps({"display": display, **GOOD, "sightings": sightings})


def test_bad_records_are_skipped_and_counted(tmp_path: Path) -> None:
    lines = [
        _line("Good One"),
        _line("\ud800"),  # a lone surrogate (json.dumps escapes it: \\ud800)
        "[" * 100_000 + "]" * 100_000,  # nesting deeper than the parser's recursion limit
        _line(None),
        _line("two\nlines"),
        _line("Counted Twice", True),
        _line("Good Two", 5),
        '{"display": "Torn',
    ]
    path = tmp_path / "attributes.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for extra in ([], ["--jsonl"]):
        done = _export(str(tmp_path), *extra)
        assert done.returncode == 0, done.stderr
        err = done.stderr.decode()
        assert "Traceback" not in err
        assert (
            err.strip()
            == f"export-attributes: skipped 6 line(s) of {path} that are not valid records"
        )
        out = done.stdout.decode("utf-8").splitlines()
        if extra:
            assert [json.loads(line)["display"] for line in out] == ["Good One", "Good Two"]
        else:
            assert out == ["Good One", "Good Two"]


def test_a_closed_pipe_is_not_an_error(tmp_path: Path) -> None:
    path = tmp_path / "attributes.jsonl"
    path.write_text("".join(_line(f"Item {i}") + "\n" for i in range(200_000)), encoding="utf-8")
    read, write = os.pipe()
    proc = subprocess.Popen(
        [sys.executable, "-m", "system.output.export", str(path)],
        stdout=write,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    os.close(write)
    with os.fdopen(read, "rb") as reader:
        assert reader.readline() == b"Item 0\n"  # then the reader goes away, as `head` does
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert err == b""


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "directory"])
def test_a_file_that_is_not_regular_is_refused(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "attributes.jsonl"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    else:
        path.mkdir()
    done = _export(str(tmp_path))
    assert done.returncode == 2
    assert done.stdout == b""
    assert done.stderr.decode().strip() == f"export-attributes: {path} is not a regular file"


def test_a_missing_file_is_reported_as_missing(tmp_path: Path) -> None:
    done = _export(str(tmp_path))
    assert done.returncode == 2
    assert (
        done.stderr.decode().strip()
        == f"export-attributes: {tmp_path / 'attributes.jsonl'} not found"
    )
