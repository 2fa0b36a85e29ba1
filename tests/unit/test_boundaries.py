"""The package boundaries, enforced: the tester knows the system only from outside.

``tester/`` and ``scenarios/`` never import ``system`` (they judge it through
its CLI, HTTP API, output files and the span schema in docs/tracing.md), and
``tester/`` has no import of ``scenarios`` (the scenarios use the tester; the
tester loads them by name, see tester/discovery.py). Checked statically with
``ast`` over every file, so an import inside a function (a lazy import), under
``if TYPE_CHECKING:`` or in a rarely run branch counts as much as one at the
top, and ``importlib.import_module("system...")`` / ``__import__`` with a
literal name count too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_IMPORTERS = {"__import__", "import_module"}


def _imports(path: Path) -> Iterator[tuple[int, str, str]]:
    """(line, imported module, where) for every import in the file, at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    scopes: dict[ast.AST, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            for child in ast.walk(node):
                scopes.setdefault(child, f"inside {node.name}()")
    for node in ast.walk(tree):
        where = scopes.get(node, "at module level")
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, where
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module, where
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                or (isinstance(node.func, ast.Name) and node.func.id in _IMPORTERS)
            )
        ):
            yield node.lineno, node.args[0].value, f"{where}, dynamically"


def _violations(folders: list[str], forbidden: str) -> list[str]:
    found = []
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for line, module, where in _imports(path):
                if module == forbidden or module.startswith(forbidden + "."):
                    found.append(f"{path.relative_to(ROOT)}:{line} imports {module} ({where})")
    return found


def test_tester_and_scenarios_never_import_the_system() -> None:
    bad = _violations(["tester", "scenarios"], "system")
    assert not bad, (
        "the tester must know the system only through its CLI, HTTP API, output files "
        "and docs/tracing.md:\n  " + "\n  ".join(bad)
    )


def test_the_tester_has_no_import_of_the_scenarios() -> None:
    bad = _violations(["tester"], "scenarios")
    assert not bad, (
        "tester/ loads the scenarios by name (tester/discovery.py); an import makes "
        "the two packages import each other:\n  " + "\n  ".join(bad)
    )


@pytest.mark.parametrize(
    "source",
    [
        "import system\n",
        "from system.orchestrator import cli\n",
        "def f():\n    from system.dedup.normalize import key\n",
        "class C:\n    def m(self):\n        import system.protocol as p\n",
        "import importlib\nimportlib.import_module('system.producer')\n",
        "__import__('system')\n",
    ],
)
def test_the_scan_sees_every_kind_of_import(tmp_path: Path, source: str) -> None:
    path = tmp_path / "probe.py"
    path.write_text(source, encoding="utf-8")
    assert [m for _, m, _ in _imports(path) if m.split(".")[0] == "system"], source


def test_the_scan_ignores_look_alikes(tmp_path: Path) -> None:
    path = tmp_path / "probe.py"
    path.write_text(
        "import systemd_like\nfrom . import system\nargv = ['-m', 'system.orchestrator']\n",
        encoding="utf-8",
    )
    assert [m for _, m, _ in _imports(path) if m == "system" or m.startswith("system.")] == []
