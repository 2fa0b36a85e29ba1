"""docs/ARCHITECTURE.md's module tables match the tree.

A module ``system/a/b.py`` is documented when a table row of the doc names
its path in backticks (`` `system/a/b.py` ``), or when a row whose first cell
names its folder (`` `system/a/` ``) names the module in backticks (`` `b` ``).
``__init__`` and ``__main__`` need no row. Every path a table names must
exist, so a row cannot outlive its module.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "ARCHITECTURE.md"
PACKAGES = ("system", "tester", "scenarios")


def _rows() -> list[tuple[str, set[str]]]:
    """(first cell, backticked names of the row) for each table row of the doc."""
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            cells = line.split("|")
            rows.append((cells[1], set(re.findall(r"`([^`]+)`", line))))
    return rows


def test_every_module_has_a_row() -> None:
    rows = _rows()
    missing = []
    for package in ("system", "tester"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.stem in {"__init__", "__main__"}:
                continue
            rel = path.relative_to(ROOT).as_posix()
            folder = path.parent.relative_to(ROOT).as_posix() + "/"
            named = any(rel in names for _, names in rows) or any(
                f"`{folder}`" in first and path.stem in names for first, names in rows
            )
            if not named:
                missing.append(f"{rel}: add `{path.stem}` (its job) to the row of `{folder}`")
    assert not missing, "modules docs/ARCHITECTURE.md does not list:\n  " + "\n  ".join(missing)


def test_every_path_in_the_tables_exists() -> None:
    stale = sorted(
        name
        for _, names in _rows()
        for name in names
        if name.split("/")[0] in PACKAGES and "/" in name and not (ROOT / name).exists()
    )
    assert not stale, f"docs/ARCHITECTURE.md names paths that do not exist: {stale}"
