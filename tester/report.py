"""CI outputs of a tester run: JUnit XML and a JSON summary."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# A scenario's outcome. "incomplete trace" and "no telemetry" say the traces could
# not be judged (spans missing), which is not the same as the system misbehaving.
PASSED = "passed"
FAILED = "failed"
INCOMPLETE = "incomplete trace"
NO_TELEMETRY = "no telemetry"
ERROR = "error"  # the scenario itself crashed
SKIPPED = "skipped"  # could not run here (e.g. an optional extra missing); not a failure


@dataclass
class ScenarioResult:
    name: str
    description: str
    passed: bool
    duration_s: float
    detail: str = ""
    workdir: str = ""
    artifacts: dict[str, str] = field(default_factory=dict)
    topics: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)
    status: str = ""
    #: with --keep-running: the run and checks apart from the time it was left running
    check_s: float | None = None
    idle_s: float | None = None
    #: spans the collector dropped over its caps: the checks judged partial data
    spans_dropped: int = 0

    def __post_init__(self) -> None:
        if not self.status:
            self.status = PASSED if self.passed else FAILED

    @property
    def skipped(self) -> bool:
        return self.status == SKIPPED

    @property
    def ok(self) -> bool:
        """Passed, or skipped with a reason: neither fails a run."""
        return self.passed or self.skipped


def write_junit(path: Path, results: list[ScenarioResult]) -> None:
    failures = sum(r.status == FAILED for r in results)
    errors = sum(not r.ok and r.status != FAILED for r in results)
    suite = ET.Element(
        "testsuite",
        name="tester",
        tests=str(len(results)),
        failures=str(failures),
        errors=str(errors),
        skipped=str(sum(r.skipped for r in results)),
        time=f"{sum(r.duration_s for r in results):.3f}",
    )
    for r in results:
        case = ET.SubElement(
            suite, "testcase", classname="scenarios", name=r.name, time=f"{r.duration_s:.3f}"
        )
        if r.skipped:
            skipped = ET.SubElement(case, "skipped", message=r.detail[:500] or SKIPPED)
            skipped.text = r.detail
        elif not r.passed:
            # incomplete trace / no telemetry / crash: <error>, the run could not be judged
            failure = ET.SubElement(
                case,
                "failure" if r.status == FAILED else "error",
                type=r.status,
                message=r.detail.splitlines()[0][:500] if r.detail else r.status,
            )
            failure.text = r.detail
        out = ET.SubElement(case, "system-out")
        out.text = "\n".join(
            [f"artifacts: {r.workdir}", *r.notes, *(f"{k}: {v}" for k, v in r.artifacts.items())]
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def write_json(path: Path, results: list[ScenarioResult]) -> None:
    summary = {
        "passed": sum(r.passed for r in results),
        "failed": sum(not r.ok for r in results),
        "skipped": sum(r.skipped for r in results),
        "statuses": {s: sum(r.status == s for r in results) for s in {r.status for r in results}},
        "duration_s": round(sum(r.duration_s for r in results), 3),
        "scenarios": [asdict(r) for r in results],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
