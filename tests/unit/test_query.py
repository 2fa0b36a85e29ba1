"""tester.query: selecting spans and asserting on them, with evidence in every failure."""

from __future__ import annotations

import pytest

from tester.collector import Span, SpanStore
from tester.query import IncompleteTrace, assert_complete, spans

TRACE = "ab" * 16
MS = 1_000_000


def make(
    span_id: str,
    name: str,
    *,
    parent: str | None = None,
    service: str = "orchestrator",
    start_ms: int = 0,
    end_ms: int = 10,
    status: str = "UNSET",
    trace: str = TRACE,
    **attributes: object,
) -> Span:
    return Span(
        trace_id=trace,
        span_id=span_id.rjust(16, "0"),
        parent_span_id=parent.rjust(16, "0") if parent else None,
        name=name,
        kind="INTERNAL",
        start_ns=start_ms * MS,
        end_ns=end_ms * MS,
        status=status,
        status_message="boom" if status == "ERROR" else "",
        attributes={k.replace("__", "."): v for k, v in attributes.items()},
        resource={"service.name": service},
    )


def run_trace() -> list[Span]:
    """topic.run > spawn > producer.run > cycle > chat, plus a stop; producers end after it."""
    spans_ = [
        make("1", "topic.run", start_ms=0, end_ms=1000, run__status="completed"),
        make("2", "producers.stop", parent="1", start_ms=800, end_ms=900),
    ]
    for p in (1, 2):
        spawn, run = f"{p}0", f"{p}1"
        spans_.append(make(spawn, "producer.spawn", parent="1", start_ms=p, end_ms=p + 5))
        spans_.append(
            make(
                run,
                "producer.run",
                parent=spawn,
                service="producer",
                start_ms=10 + p,
                end_ms=850 + p,
                producer__id=p,
            )
        )
        for i in range(3):
            cycle = f"{p}{i}c"
            spans_.append(
                make(
                    cycle,
                    "generation.cycle",
                    parent=run,
                    service="producer",
                    start_ms=20 + 100 * i,
                    end_ms=90 + 100 * i,
                )
            )
            spans_.append(
                make(
                    f"{p}{i}d",
                    "chat sim-zipf-1",
                    parent=cycle,
                    service="producer",
                    start_ms=21 + 100 * i,
                    end_ms=21 + 100 * i + 10 * (i + 1) * p,
                    gen_ai__provider__name="simulated",
                    gen_ai__usage__output_tokens=100 * p,
                )
            )
    return spans_


@pytest.fixture
def q():
    return spans(run_trace())


def test_select_by_service_name_glob_and_attributes(q):
    q.service("producer").name("chat *").where(**{"gen_ai.provider.name": "simulated"}).exactly(6)
    assert len(q.name("chat sim-zipf-1")) == 6
    assert len(q.name("producer.*", "topic.run")) == 5
    assert len(q.where(**{"gen_ai.usage.output_tokens": lambda n: n > 100})) == 3
    assert len(q.where(lambda s: s.duration_ms > 500)) == 3
    q.where(**{"no.such.attribute": 1}).none()
    assert q.service("nobody").first() is None


def test_relations(q):
    root = q.name("topic.run").one()
    assert {s.name for s in q.children_of(root)} == {"producers.stop", "producer.spawn"}
    assert len(q.name("topic.run").descendants()) == len(q) - 1
    run1 = q.name("producer.run").where(**{"producer.id": 1})
    assert len(run1.descendants().name("chat *")) == 3
    assert len(q.name("chat *").descendants_of(run1)) == 3
    assert {s.name for s in q.name("chat *").parents()} == {"generation.cycle"}
    assert len(q.name("generation.cycle").children()) == 6
    assert q.parents_of(q.name("producer.run")).name("producer.spawn").count() == 2
    other = make("9", "topic.run", trace="cd" * 16)
    mixed = spans([*run_trace(), other])
    assert len(mixed.same_trace_as(root)) == len(q)
    assert mixed.in_trace(other).one() is other
    assert len(mixed.roots()) == 2


def test_time_order(q):
    assert [s.name for s in q][:2] == ["topic.run", "producer.spawn"]
    assert q.by_end()[-1].name == "topic.run"
    assert q.name("chat *").first().start_ns == 21 * MS


def test_count_failures_carry_evidence(q):
    with pytest.raises(AssertionError) as caught:
        q.service("producer").name("chat *").at_least(10)
    message = str(caught.value)
    assert "spans.service('producer').name('chat *'): expected at least 10 span(s), found 6" in (
        message
    )
    assert ">> chat sim-zipf-1 [producer]" in message  # marked in the tree
    assert "topic.run [orchestrator] 1000.0ms" in message  # with durations
    assert "gen_ai.provider.name='simulated'" in message  # and attributes
    with pytest.raises(AssertionError, match="expected no span, found 6"):
        q.name("chat *").none()
    with pytest.raises(AssertionError, match="expected exactly 1"):
        q.name("producer.run").one()
    with pytest.raises(AssertionError, match="at most 1"):
        q.name("producer.run").at_most(1)


def test_an_at_least_failure_shows_each_span_once(q):
    with pytest.raises(AssertionError) as caught:
        q.name("chat *").at_least(10)
    message = str(caught.value)
    assert message.count("chat sim-zipf-1 [producer]") == 6, message
    assert "marked >> in the tree below" in message


def test_evidence_lines_are_capped_readably():
    wide = make("w", "batch.receive", parent="1", **{f"attr__{i}": "x" * 80 for i in range(30)})
    with pytest.raises(AssertionError) as caught:
        spans([*run_trace(), wide]).name("batch.receive").none()
    (line,) = [x for x in str(caught.value).splitlines() if "batch.receive [" in x]
    assert len(line.strip()) <= 163, len(line)  # MAX_LINE, and the ">> " mark
    assert line.rstrip().endswith("more)") and "attr.0='xxx" in line


def test_empty_selection_shows_where_it_looked(q):
    with pytest.raises(AssertionError) as caught:
        q.name("file.append").at_least(1)
    assert "found 0" in str(caught.value) and "topic.run [orchestrator]" in str(caught.value)


def test_errors_appear_in_the_evidence():
    q = spans([*run_trace(), make("e", "file.append", parent="1", status="ERROR")])
    with pytest.raises(AssertionError, match=r"ERROR\(boom\)"):
        q.errors().none()


def test_durations(q):
    chats = q.name("chat *")
    assert sorted(chats.durations_ms()) == [10, 20, 20, 30, 40, 60]
    assert chats.percentile_ms(50) == 20
    assert chats.percentile_ms(95) == 60
    chats.p95_below(61).percentile_below(50, 21).all_shorter_than(61)
    with pytest.raises(AssertionError) as caught:
        chats.p95_below(50)
    assert "p95 duration 60.0ms is not below 50ms (1 of 6 spans at or above it)" in str(
        caught.value
    )
    with pytest.raises(AssertionError, match="2 span"):
        chats.all_shorter_than(40)
    with pytest.raises(AssertionError, match="no span"):
        q.name("nothing").p95_below(1)
    with pytest.raises(ValueError):
        chats.percentile_ms(101)


def test_ordering(q):
    stop = q.name("producers.stop")
    q.name("producer.run").ended_after_start_of(stop)
    q.name("producer.spawn").ended_before_start_of(q.name("producer.run"))
    q.name("topic.run").ended_after_end_of(q.name("producer.run"))
    stop.started_after_end_of(q.name("producer.spawn"))
    with pytest.raises(AssertionError) as caught:
        q.name("producer.run").ended_before_start_of(stop)
    assert "2 of 2 span(s) not ended before the start of spans.name('producers.stop')" in str(
        caught.value
    )
    with pytest.raises(AssertionError, match="other selection is empty"):
        q.name("producer.run").ended_after_start_of(q.name("nothing"))


def test_reading_helpers(q):
    assert q.name("chat *").sum("gen_ai.usage.output_tokens") == 900
    assert q.name("producer.run").attr_values("producer.id") == [1, 2]
    assert "producer.run" in repr(q.name("producer.run"))


def test_sources(q):
    store = SpanStore()
    store.add(run_trace())
    assert len(spans(store)) == len(q)


def test_complete_trace_and_incomplete_ones():
    full = run_trace()
    assert_complete(full, known_services={"orchestrator", "producer"})
    no_cycles = [s for s in full if s.name != "generation.cycle"]
    with pytest.raises(IncompleteTrace) as caught:
        assert_complete(no_cycles, known_services={"orchestrator", "producer"})
    assert "6 span(s) whose parent never arrived" in str(caught.value)
    assert "(parent missing)" in str(caught.value)
    stranger = make("x", "mystery", parent="1", service="intruder")
    with pytest.raises(IncompleteTrace, match=r"unknown process\(es\) \['intruder'\]"):
        assert_complete([*full, stranger], known_services={"orchestrator", "producer"})
    assert_complete(
        no_cycles,
        known_services={"orchestrator", "producer"},
        excused=lambda s: s.name.startswith("chat"),
    )
    assert isinstance(IncompleteTrace("x"), AssertionError)
