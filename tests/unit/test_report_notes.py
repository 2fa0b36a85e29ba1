"""Notes in the report read as sentences for people, not as Python reprs."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from scenarios._oracle import readable, scan_secrets
from tester.collector import SpanStore


def test_the_secret_scan_says_that_nothing_leaked(tmp_path: Path) -> None:
    (tmp_path / "run.log").write_text("nothing to see\n")
    notes: list[str] = []
    ctx = SimpleNamespace(store=SpanStore(), workdir=tmp_path, note=notes.append)
    scan_secrets(ctx, ["sk-test-0123456789abcdef"])  # type: ignore[arg-type]
    (note,) = notes
    assert note.startswith("secret scan: no leak; 1 secret value (API keys) searched for in ")
    assert note.endswith("found in none")


def test_values_in_notes_read_as_words() -> None:
    stats = {"flaky": {"ok": 30, "429": 16}, "steady": {"ok": 44}}
    assert readable(stats) == "flaky (ok 30, 429 16), steady (ok 44)"
    assert readable({"1": 2, "2": None}) == "1 2, 2 none"
