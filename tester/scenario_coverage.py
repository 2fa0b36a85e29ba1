"""``python -m tester --coverage [DIR]``: which statements and branches of ``system/``
the scenarios execute, in every process they start.

The tester itself runs no ``system/`` code: the system runs in the processes the
scenarios start (orchestrator, producers, webserver, one-shot commands such as
``export-attributes``), and those start their own children. coverage.py measures
them all through its subprocess support: the tester writes an rcfile and puts
its path in ``COVERAGE_PROCESS_START`` of its own environment, which every
process it starts inherits (and passes on to its children); at start-up, the
``.pth`` file that coverage.py (>= 7.10) installs beside itself calls
``coverage.process_startup()`` in each Python process that sees the variable.
Nothing is written into site-packages by the tester.

Each process writes its own data file (``parallel = true``) when it exits
normally or on SIGTERM (``sigterm = true``); a process killed with SIGKILL (the
producers that ``producer-kill`` and the fleet's reaper kill by design) loses
its data. The context of each data file is the scenario's name (the rcfile's
``context`` reads ``TESTER_COVERAGE_CONTEXT``, which the tester sets before each
scenario), so the combined ``.coverage`` file answers which scenarios ran a line
(``CoverageData.contexts_by_lineno``, or the HTML report's contexts).

After the last scenario the tester combines the files and writes
``DIR/report.txt`` (per file), ``DIR/packages.txt`` (per package of
``system/``), ``DIR/coverage.json`` and ``DIR/html/``.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: the variable coverage.py's start-up hook looks for in each new process
PROCESS_START_ENV = "COVERAGE_PROCESS_START"
#: the scenario's name, the static context of every process started while it runs
CONTEXT_ENV = "TESTER_COVERAGE_CONTEXT"
#: the measured package
SOURCE_PACKAGE = "system"

RCFILE = """\
# written by python -m tester --coverage (tester/scenario_coverage.py)
[run]
source_pkgs = {source}
branch = true
parallel = true
sigterm = true
data_file = {data_file}
context = ${{{context_env}}}
disable_warnings = no-data-collected, module-not-imported, module-not-measured

[report]
precision = 1
show_missing = true
skip_empty = true

[html]
show_contexts = true
"""


@dataclass
class PackageFigure:
    """Statements and branches of one package of ``system/`` (``system/dedup``...)."""

    package: str
    statements: int = 0
    missing: int = 0
    branches: int = 0
    missing_branches: int = 0

    @property
    def executed(self) -> int:
        return self.statements - self.missing

    @property
    def percent(self) -> float:
        return 100.0 * self.executed / self.statements if self.statements else 100.0

    @property
    def branch_percent(self) -> float:
        if not self.branches:
            return 100.0
        return 100.0 * (self.branches - self.missing_branches) / self.branches


class ScenarioCoverage:
    """Set up measuring before the scenarios run; combine and report after."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder.resolve()
        self.rcfile = self.folder / "coveragerc"
        self.data_file = self.folder / ".coverage"
        self._saved_env: dict[str, str | None] = {}

    def start(self) -> ScenarioCoverage:
        """Write the rcfile and set the variables every process started from now inherits."""
        import coverage  # a dev dependency: imported only when asked for

        major, minor = (int(p) for p in coverage.__version__.split(".")[:2])
        if (major, minor) < (7, 10):
            raise RuntimeError(
                f"--coverage needs coverage>=7.10 (its subprocess start-up hook); "
                f"found {coverage.__version__}"
            )
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob(".coverage*"):
            old.unlink()
        self.rcfile.write_text(
            RCFILE.format(source=SOURCE_PACKAGE, data_file=self.data_file, context_env=CONTEXT_ENV),
            encoding="utf-8",
        )
        for key, value in ((PROCESS_START_ENV, str(self.rcfile)), (CONTEXT_ENV, "")):
            self._saved_env[key] = os.environ.get(key)
            os.environ[key] = value
        return self

    def enter(self, scenario: str) -> None:
        """Processes started from now on record their lines under this scenario's name."""
        os.environ[CONTEXT_ENV] = scenario

    def stop(self) -> None:
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()

    def finish(self) -> list[PackageFigure]:
        """Combine the per-process files; write the reports; the figure per package."""
        self.stop()
        import coverage

        cov = coverage.Coverage(config_file=str(self.rcfile), data_file=str(self.data_file))
        data_files = [str(p) for p in self.folder.glob(".coverage.*")]
        if not data_files:
            raise RuntimeError(f"no coverage data was written in {self.folder}")
        cov.combine(data_files, keep=False)
        cov.save()
        cov.load()
        with open(self.folder / "report.txt", "w", encoding="utf-8") as out:
            cov.report(file=out)
        cov.html_report(directory=str(self.folder / "html"))
        json_path = self.folder / "coverage.json"
        cov.json_report(outfile=str(json_path))
        figures = package_figures(json.loads(json_path.read_text(encoding="utf-8")))
        (self.folder / "packages.txt").write_text(format_figures(figures), encoding="utf-8")
        return figures


def package_figures(report: dict[str, Any]) -> list[PackageFigure]:
    """Per package of ``system/`` (its first-level folder) from coverage.py's JSON report,
    then the total as ``system``."""
    by_package: dict[str, PackageFigure] = {}
    total = PackageFigure(SOURCE_PACKAGE)
    for filename, entry in report.get("files", {}).items():
        parts = Path(filename).parts
        if SOURCE_PACKAGE not in parts:
            continue
        rel = parts[parts.index(SOURCE_PACKAGE) :]
        package = "/".join(rel[:2]) if len(rel) > 2 else SOURCE_PACKAGE + "/(top)"
        figure = by_package.setdefault(package, PackageFigure(package))
        summary = entry["summary"]
        for fig in (figure, total):
            fig.statements += int(summary["num_statements"])
            fig.missing += int(summary["missing_lines"])
            fig.branches += int(summary.get("num_branches", 0))
            fig.missing_branches += int(summary.get("missing_branches", 0))
    return [*sorted(by_package.values(), key=lambda f: f.package), total]


def format_figures(figures: list[PackageFigure]) -> str:
    lines = [
        f"{'package':<24} {'stmts':>6} {'miss':>5} {'stmt%':>6} {'branch':>6} {'bmiss':>5} "
        f"{'br%':>6}"
    ]
    for f in figures:
        lines.append(
            f"{f.package:<24} {f.statements:>6} {f.missing:>5} {f.percent:>6.1f} "
            f"{f.branches:>6} {f.missing_branches:>5} {f.branch_percent:>6.1f}"
        )
    return "\n".join(lines) + "\n"


def scenarios_by_line(data_file: Path) -> dict[str, dict[int, list[str]]]:
    """File -> line -> the scenarios that executed it, from a combined ``.coverage``."""
    import coverage

    data = coverage.CoverageData(basename=str(data_file))
    data.read()
    found: dict[str, dict[int, list[str]]] = defaultdict(dict)
    for filename in data.measured_files():
        for line, contexts in data.contexts_by_lineno(filename).items():
            found[filename][line] = sorted(c for c in contexts if c)
    return dict(found)
