"""Topic's completeness checks read topic.run alone (attributes and events)."""

from __future__ import annotations

import io

import pytest

from tester.collector import Span, SpanStore
from tester.collector.spans import SpanEvent
from tester.topic import Topic


def _estimate(est: float, low: float, high: float, found: int) -> dict[str, object]:
    return {
        "coverage.estimate": est,
        "coverage.low": low,
        "coverage.high": high,
        "coverage.universe": found / est,
        "coverage.found": found,
    }


def _topic(final: dict[str, object] | None, events: list[dict[str, object]]) -> Topic:
    attributes: dict[str, object] = {"topic.name": "T", "run.status": "completed"}
    attributes.update(final or {})
    root = Span(
        trace_id="1" * 32, span_id="2" * 16, parent_span_id=None, name="topic.run",
        kind="INTERNAL", start_ns=0, end_ns=10, status="UNSET", status_message="",
        attributes=attributes, resource={"service.name": "orchestrator"},
        events=tuple(SpanEvent("coverage.estimate", i + 1, e) for i, e in enumerate(events)),
    )  # fmt: skip
    store = SpanStore()
    store.add([root])
    return Topic(root, store)


def test_final_estimate_history_and_assertion() -> None:
    topic = _topic(
        _estimate(0.9, 0.85, 0.95, 90),
        [_estimate(0.5, 0.4, 0.6, 50), _estimate(0.8, 0.7, 0.9, 80)],
    )
    assert topic.coverage == {
        "estimate": 0.9, "low": 0.85, "high": 0.95, "universe": 100.0, "found": 90.0
    }  # fmt: skip
    assert [p["found"] for p in topic.coverage_history()] == [50.0, 80.0]
    assert topic.summary()["coverage"] == topic.coverage
    topic.assert_coverage_at_least(0.85)
    topic.assert_coverage_at_least(0.9, bound="estimate")
    with pytest.raises(AssertionError, match=r"coverage \(low\) of at least 0\.9"):
        topic.assert_coverage_at_least(0.9)
    with pytest.raises(ValueError):
        topic.assert_coverage_at_least(0.5, bound="median")


def test_a_run_without_an_estimate_fails_the_assertion() -> None:
    topic = _topic(None, [])
    assert topic.coverage is None and topic.coverage_history() == []
    with pytest.raises(AssertionError, match="no completeness estimate"):
        topic.assert_coverage_at_least(0.1)


def test_the_printed_summary_reads_as_words() -> None:
    out = io.StringIO()
    _topic(_estimate(0.9, 0.85, 0.95, 90), []).print_summary(out)
    assert "coverage    90% (95% interval 85%-95%) of ~100 reachable items" in out.getvalue()
    assert "services    orchestrator 1\n" in out.getvalue()
    out = io.StringIO()
    _topic(None, []).print_summary(out)
    assert "coverage    not estimated (too few requests)" in out.getvalue()
    assert "None" not in out.getvalue() and "{" not in out.getvalue()
