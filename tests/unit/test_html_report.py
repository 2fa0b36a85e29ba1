"""report.html's numbers (computed in Python) and its self-containedness."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tester.collector import Span, SpanEvent
from tester.html_report import (
    discovery_curves,
    provider_split,
    render,
    verdict,
    write_html_report,
)
from tester.report import ScenarioResult

T0 = 1_700_000_000_000_000_000
TRACE = "ab" * 16


def span(name: str, start_s: float, end_s: float, **kw: object) -> Span:
    base: dict[str, object] = dict(
        trace_id=TRACE,
        span_id=f"{abs(hash((name, start_s))) % 16**16:016x}",
        parent_span_id=None,
        name=name,
        kind="INTERNAL",
        start_ns=T0 + int(start_s * 1e9),
        end_ns=T0 + int(end_s * 1e9),
        status="UNSET",
        status_message="",
        attributes={},
        resource={"service.name": "orchestrator"},
    )
    base.update(kw)
    return Span(**base)  # type: ignore[arg-type]


def spans_of_a_run() -> list[Span]:
    coverage = tuple(
        SpanEvent(
            "coverage.estimate",
            T0 + int(t * 1e9),
            {"coverage.estimate": c, "coverage.low": c - 0.1, "coverage.high": c + 0.05},
        )
        for t, c in ((1.0, 0.4), (2.0, 0.7))
    )
    root = span(
        "topic.run",
        0,
        3,
        attributes={"topic.name": "Rivers", "run.status": "completed", "run.resumed_count": 4},
        events=coverage,
    )
    batches = [
        span("batch.receive", t, t + 0.1, attributes={"batch.new": new})
        for t, new in ((0.5, 10), (1.5, 5), (2.5, 0))
    ]
    chats = [
        span(
            "chat m",
            0.2 + i,
            0.4 + i,
            attributes={
                "gen_ai.provider.name": provider,
                "gen_ai.usage.input_tokens": 100,
                "gen_ai.usage.output_tokens": 50,
            },
            status="ERROR" if i == 2 else "UNSET",
            resource={"service.name": "producer"},
            events=tuple(
                SpanEvent("llm.attempt", T0, {"llm.attempt": k, "llm.provider": key, **error})
                for k, (key, error) in enumerate(attempts, 1)
            ),
        )
        for i, (provider, attempts) in enumerate(
            [
                ("a", [("a-key", {})]),
                ("a", [("a-key", {"error.type": "cancelled"})]),  # a stop's, no failure
                ("a", [("a-key", {"error.type": "429"}), ("a-key", {"error.type": "429"})]),
                ("b", [("a-key", {"error.type": "timeout"}), ("b-key", {})]),  # failed over
            ]
        )
    ]
    return [root, *batches, *chats]


def test_discovery_curve_is_cumulative_new_attributes_with_coverage() -> None:
    (curve,) = discovery_curves(spans_of_a_run())
    assert curve["topic"] == "Rivers" and curve["resumed"] == 4
    assert curve["unique"] == [[0.0, 0], [0.6, 10], [1.6, 15], [2.6, 15]]
    assert curve["coverage"] == [[1.0, 0.4, 0.30000000000000004, 0.45], [2.0, 0.7, 0.6, 0.75]]


def test_provider_split_counts_calls_failed_attempts_and_tokens() -> None:
    """Errors are failed attempts, each for the provider it went to (a failover's too)."""
    split = provider_split(spans_of_a_run())
    assert [(r["provider"], r["calls"], r["errors"], r["share"]) for r in split] == [
        ("a", 3, 3, 0.75),
        ("b", 1, 0, 0.25),
    ]
    assert split[0]["input_tokens"] == 300 and split[0]["output_tokens"] == 150


def test_the_page_is_self_contained_and_carries_the_evidence(tmp_path: Path) -> None:
    evidence = "ASSERTION FAILED: expected 3 spans </script><script>alert(1)</script>"
    result = ScenarioResult("basic", "d", False, 1.5, evidence, str(tmp_path), status="failed")
    page = write_html_report(
        tmp_path / "report.html", [result], {"basic": spans_of_a_run()}
    ).read_text()
    # no external reference of any kind
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "default-src 'none'" in page
    # the data survives the trip through <script> and closes nothing early
    blob = page.split('id="report-data">', 1)[1].split("</script>", 1)[0]
    data = json.loads(blob)
    (scenario,) = data["scenarios"]
    assert scenario["detail"] == evidence and scenario["status"] == "failed"
    assert scenario["traces"]["total"] == 8 and len(scenario["traces"]["spans"]) == 8
    assert data["passed"] == 0 and data["total"] == 1


def test_spans_are_read_from_the_artifacts_when_not_given(tmp_path: Path) -> None:
    from tester.collector import spans_to_otlp_json

    traces = tmp_path / "traces.otlp.json"
    traces.write_text(json.dumps(spans_to_otlp_json(spans_of_a_run())))
    result = ScenarioResult("x", "d", True, 1.0, artifacts={"traces_otlp": str(traces)})
    blob = render([result]).split('id="report-data">', 1)[1].split("</script>", 1)[0]
    assert len(json.loads(blob)["scenarios"][0]["traces"]["spans"]) == 8


def test_artifact_links_are_relative_to_the_report(tmp_path: Path) -> None:
    workdir = tmp_path / "basic"
    traces = workdir / "traces.otlp.json"
    result = ScenarioResult(
        "basic", "d", True, 1.0, workdir=str(workdir), artifacts={"traces_otlp": str(traces)}
    )
    page = write_html_report(tmp_path / "report.html", [result], {"basic": []}).read_text()
    blob = page.split('id="report-data">', 1)[1].split("</script>", 1)[0]
    links = json.loads(blob)["scenarios"][0]["links"]
    assert links == {"work folder": "basic", "traces_otlp": "basic/traces.otlp.json"}


def test_the_verdict_counts_a_skip_apart_and_stays_green(tmp_path: Path) -> None:
    passed = [ScenarioResult(f"s{i}", "d", True, 1.0) for i in range(13)]
    skipped = ScenarioResult("real_llm", "d", False, 0.1, "no model", status="skipped")
    failed = ScenarioResult("basic", "d", False, 1.0, "evidence")
    assert verdict([*passed, skipped]) == "13 passed, 1 skipped"
    assert verdict([skipped, failed, *passed]) == "13 passed, 1 failed, 1 skipped"
    page = write_html_report(tmp_path / "report.html", [*passed, skipped], {}).read_text()
    data = json.loads(page.split('id="report-data">', 1)[1].split("</script>", 1)[0])
    assert data["ok"] is True and data["verdict"] == "13 passed, 1 skipped"
    assert "<title>tester report: 13 passed, 1 skipped</title>" in page
