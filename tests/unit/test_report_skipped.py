"""The "skipped" verdict in the CI outputs: JUnit <skipped>, the JSON counts."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from tester.report import FAILED, PASSED, SKIPPED, ScenarioResult, write_json, write_junit


def _results() -> list[ScenarioResult]:
    return [
        ScenarioResult("basic", "d", True, 1.0, status=PASSED),
        ScenarioResult("real-llm", "d", False, 0.1, "extra not installed", status=SKIPPED),
        ScenarioResult("bad", "d", False, 2.0, "ASSERTION FAILED: x", status=FAILED),
    ]


def test_skipped_is_neither_passed_nor_failed():
    basic, skipped, bad = _results()
    assert skipped.skipped and skipped.ok and not skipped.passed
    assert basic.ok and not basic.skipped
    assert not bad.ok


def test_junit_marks_a_skip_as_skipped_with_its_reason(tmp_path):
    path = tmp_path / "j.xml"
    write_junit(path, _results())
    suite = ET.parse(path).getroot()
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) \
        == ("3", "1", "0", "1")  # fmt: skip
    case = next(c for c in suite.iter("testcase") if c.get("name") == "real-llm")
    node = case.find("skipped")
    assert node is not None and node.get("message") == "extra not installed"
    assert case.find("failure") is None and case.find("error") is None


def test_json_counts_skips_apart(tmp_path):
    path = tmp_path / "s.json"
    write_json(path, _results())
    summary = json.loads(path.read_text())
    assert (summary["passed"], summary["failed"], summary["skipped"]) == (1, 1, 1)
    assert summary["statuses"] == {"passed": 1, "skipped": 1, "failed": 1}
