"""The Topic API: find one topic run in the collected traces and assert on it.

    topic = Topic.wait_for_topic("Paris attractions", collector, timeout=120)
    topic.assert_completed()
    topic.assert_min_attributes(20)
    topic.assert_no_errors()
    topic.print_summary()

Every failed assertion raises AssertionError whose message carries the
evidence: the counts involved and the spans around the failure as a tree. A
trace that cannot be judged (a parent missing, a span from an unknown process,
spans still missing at the deadline) raises ``IncompleteTrace``; no span at
all, ``NoTelemetry``. ``topic.query()`` gives the trace to tester.query.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from tester import schema as n
from tester.collector import Collector, Span, SpanStore
from tester.query import IncompleteTrace, NoTelemetry, Spans, assert_complete, spans
from tester.topic.evidence import describe_span, span_tree
from tester.topic.normalize import normalize
from tester.tracebacks import hide_harness_frames

# pytest shows none of this module's frames for a failed check (tester/tracebacks.py)
__tracebackhide__ = hide_harness_frames


class TopicNotFound(AssertionError):
    """No finished topic.run span for the topic arrived in time."""


class NoTelemetryTopicNotFound(TopicNotFound, NoTelemetry):
    """No topic.run because no span arrived at all: reported as "no telemetry"."""


def _store(source: Collector | SpanStore) -> SpanStore:
    return source.store if isinstance(source, Collector) else source


class Topic:
    def __init__(self, root: Span, store: SpanStore, *, incomplete: str | None = None) -> None:
        self.root = root
        self.store = store
        self.incomplete = incomplete
        self._lost_cache: tuple[int, list[Span]] | None = None

    # ------------------------------------------------------------- finding
    @classmethod
    def wait_for_topic(
        cls,
        name: str,
        collector: Collector | SpanStore,
        timeout: float = 120.0,
        *,
        quiet_for: float = 1.0,
        run_id: str | None = None,
    ) -> Topic:
        """Wait for the finished run of topic ``name`` and for its trace to be complete.

        Complete means: the topic.run span has ended, every producer that was
        spawned and not reported lost has delivered its producer.run span, and
        no new span of the trace has arrived for ``quiet_for`` seconds.
        """
        store = _store(collector)
        deadline = time.monotonic() + timeout

        def is_root(span: Span) -> bool:
            return (
                span.name == n.TOPIC_RUN
                and span.attr(n.TOPIC_NAME) == name
                and (run_id is None or span.attr(n.RUN_ID) == run_id)
            )

        roots = store.wait_for(is_root, timeout)
        if not roots:
            seen = Counter(f"{s.service_name}/{s.name}" for s in store.all())
            topics = sorted({str(s.attr(n.TOPIC_NAME)) for s in store.by_name(n.TOPIC_RUN)})
            error = NoTelemetryTopicNotFound if not len(store) else TopicNotFound
            raise error(
                f"no finished {n.TOPIC_RUN} span for topic {name!r} within {timeout:.0f}s.\n"
                f"topics seen: {topics or 'none'}\n"
                f"spans received: {len(store)} "
                + (f"({dict(seen.most_common(12))})" if seen else "(no telemetry arrived at all)")
            )
        root = roots[-1]
        topic = cls(root, store)
        incomplete = None
        while True:
            missing = topic._missing_producer_runs()
            remaining = deadline - time.monotonic()
            if not missing and store.wait_quiet(quiet_for, max(remaining, 0.1), root.trace_id):
                break
            if remaining <= 0:
                incomplete = (
                    f"trace incomplete after {timeout:.0f}s: producer.run spans missing for "
                    f"producer(s) {sorted(missing)}"
                    if missing
                    else "trace never went quiet"
                )
                break
            store.wait_for(
                lambda s: s.trace_id == root.trace_id and s.name == n.PRODUCER_RUN,
                min(remaining, 0.5),
                count=len(topic.spans(n.PRODUCER_RUN)) + 1,
            )
        topic.incomplete = incomplete
        return topic

    # ------------------------------------------------------------- reading
    @property
    def trace_id(self) -> str:
        return self.root.trace_id

    @property
    def name(self) -> str:
        return str(self.root.attr(n.TOPIC_NAME))

    @property
    def status(self) -> str:
        return str(self.root.attr(n.RUN_STATUS, "unknown"))

    def _count(self, key: str) -> int:
        return int(self.root.attr(key, 0) or 0)

    @property
    def unique_count(self) -> int:
        return self._count(n.RUN_UNIQUE)

    @property
    def resumed_count(self) -> int:
        return self._count(n.RUN_RESUMED)

    @property
    def candidate_count(self) -> int:
        return self._count(n.RUN_CANDIDATES)

    @property
    def output_file(self) -> Path:
        return Path(str(self.root.attr(n.RUN_OUTPUT_FILE)))

    def all_spans(self) -> list[Span]:
        return self.store.by_trace(self.root.trace_id)

    def query(self) -> Spans:
        """The run's trace as a tester.query selection: ``topic.query().name("chat *")``."""
        return spans(self.all_spans())

    def spans(self, name: str | None = None, *, prefix: str | None = None) -> list[Span]:
        selected = self.query()
        if name is not None:
            selected = selected.name(name)
        if prefix is not None:
            selected = selected.name(prefix + "*")
        return selected.list()

    def _missing_producer_runs(self) -> set[int]:
        spawned = Counter(int(s.attr(n.PRODUCER_ID)) for s in self.spans(n.PRODUCER_SPAWN))
        lost = Counter(int(s.attr(n.PRODUCER_ID)) for s in self.spans(n.PRODUCER_LOST))
        ran = Counter(int(s.attr(n.PRODUCER_ID)) for s in self.spans(n.PRODUCER_RUN))
        return {pid for pid, count in spawned.items() if ran[pid] < count - lost[pid]}

    # ------------------------------------------------------------- evidence
    def evidence(self, spans: list[Span] | None = None, *, highlight: Sequence[Span] = ()) -> str:
        spans = self.all_spans() if spans is None else spans
        header = (
            f"topic {self.name!r} trace {self.trace_id} status={self.status} "
            f"unique={self.unique_count} candidates={self.candidate_count} "
            f"spans={len(self.all_spans())}"
        )
        if self.incomplete:
            header += f"\nNOTE: {self.incomplete}"
        return header + "\n" + span_tree(spans, highlight=[s.span_id for s in highlight])

    def _fail(
        self,
        message: str,
        *,
        spans: list[Span] | None = None,
        highlight: Sequence[Span] = (),
        error: type[AssertionError] = AssertionError,
    ) -> None:
        focus = ""
        if highlight:
            listed = "\n".join("  " + describe_span(s) for s in list(highlight)[:10])
            more = f"\n  ... and {len(highlight) - 10} more" if len(highlight) > 10 else ""
            focus = f"\n\nspans in question (marked >> in the tree):\n{listed}{more}"
        raise error(f"{message}{focus}\n\nevidence:\n{self.evidence(spans, highlight=highlight)}")

    def _lost_spans(self) -> list[Span]:
        """The producer.lost spans, read once per span count (this runs once per batch)."""
        count = len(self.store)
        if self._lost_cache is None or self._lost_cache[0] != count:
            self._lost_cache = (count, self.spans(n.PRODUCER_LOST))
        return self._lost_cache[1]

    def _lost_with_its_producer(self, span: Span) -> bool:
        """A producer killed by SIGKILL takes its unexported spans with it, so its own
        spans whose parent was still open, and the orchestrator's batch spans
        parented by its lost cycles, are expected to dangle."""
        lost = self._lost_spans()
        if span.name == n.BATCH_RECEIVE:
            return any(
                span.attr(n.PRODUCER_ID) == s.attr(n.PRODUCER_ID) and span.start_ns <= s.end_ns
                for s in lost
            )
        return span.service_name == n.SERVICE_PRODUCER and span.resource.get("process.pid") in {
            s.attr("process.pid") for s in lost
        }

    # ------------------------------------------------------------- assertions
    def assert_complete_trace(self) -> Topic:
        """Every span's parent is in the trace (but the root's); every service is known.

        Raises IncompleteTrace (an AssertionError), not a plain failure: the trace
        cannot be judged, which is not the same as the system misbehaving.
        """
        if self.incomplete:
            self._fail(f"incomplete trace: {self.incomplete}", error=IncompleteTrace)
        try:
            assert_complete(
                self.all_spans(),
                known_services=n.KNOWN_SERVICES,
                allowed_root=lambda s: s.span_id == self.root.span_id,
                excused=self._lost_with_its_producer,
            )
        except IncompleteTrace as exc:
            raise IncompleteTrace(f"topic {self.name!r} trace {self.trace_id}: {exc}") from None
        return self

    def assert_completed(self) -> Topic:
        """The run ended with status completed, and every producer started and stopped cleanly."""
        if self.status != "completed":
            self._fail(
                f"expected run.status 'completed', got {self.status!r} "
                f"(reason: {self.root.attr(n.RUN_STOP_REASON)!r})",
                highlight=[self.root],
            )
        self.assert_complete_trace()
        self.assert_producers_lifecycle()
        return self

    def assert_stopped(self) -> Topic:
        if self.status != "stopped":
            self._fail(f"expected run.status 'stopped', got {self.status!r}", highlight=[self.root])
        return self

    def assert_producers_lifecycle(self) -> Topic:
        """Producers spawned, ran, called the LLM, sent batches, stopped after the run did."""
        producers = int(self.root.attr(n.RUN_PRODUCERS, 0))
        spawns = self.spans(n.PRODUCER_SPAWN)
        spawned_ids = {int(s.attr(n.PRODUCER_ID)) for s in spawns}
        if spawned_ids != set(range(1, producers + 1)):
            self._fail(
                f"expected producers 1..{producers} to be spawned, saw {sorted(spawned_ids)}"
            )
        missing = self._missing_producer_runs()
        if missing:
            self._fail(f"producer(s) {sorted(missing)} never reported a finished producer.run span")
        q = self.query()
        stop = q.name(n.PRODUCERS_STOP).exactly(1)
        lost_ids: set[Any] = set(q.name(n.PRODUCER_LOST).attr_values(n.PRODUCER_ID))
        # a lost producer's earlier process ended before the stop, by definition
        q.name(n.PRODUCER_RUN).where(
            **{n.PRODUCER_ID: lambda pid: pid not in lost_ids}
        ).ended_after_start_of(stop)
        if not q.name(n.CHAT_PREFIX + "*"):
            self._fail("no LLM call (chat *) spans in the trace")
        if not q.name(n.BATCH_RECEIVE):
            self._fail("no batch.receive spans: the orchestrator received no batch")
        return self

    def assert_min_attributes(self, minimum: int) -> Topic:
        if self.unique_count < minimum:
            self._fail(
                f"expected at least {minimum} unique attributes, run found {self.unique_count}",
                highlight=[self.root],
            )
        return self

    # ------------------------------------------------------------- coverage
    @property
    def coverage(self) -> dict[str, float] | None:
        """The run's final completeness estimate from ``topic.run`` (docs/tracing.md
        "Completeness"): ``estimate``, ``low``, ``high``, ``universe``, ``found``;
        None when the run reported none (too few requests)."""
        return _coverage_of(self.root.attributes)

    def coverage_history(self) -> list[dict[str, float]]:
        """Every ``coverage.estimate`` event of ``topic.run``, in time order, with its
        ``time_ns``: how the estimate moved during the run."""
        out = []
        for event in sorted(self.root.events, key=lambda e: e.time_ns):
            if event.name == n.EVENT_COVERAGE and (c := _coverage_of(event.attributes)):
                out.append({**c, "time_ns": float(event.time_ns)})
        return out

    def assert_coverage_at_least(self, minimum: float, *, bound: str = "low") -> Topic:
        """The final estimate's ``bound`` (``low``: the interval's lower end, the
        default; ``estimate``; ``high``) is at least ``minimum``."""
        if bound not in ("low", "estimate", "high"):
            raise ValueError("bound must be 'low', 'estimate' or 'high'")
        c = self.coverage
        if c is None:
            self._fail("topic.run carries no completeness estimate", highlight=[self.root])
        elif c[bound] < minimum:
            self._fail(
                f"expected coverage ({bound}) of at least {minimum:g}; the run estimated "
                f"{c['estimate']:.3f} [{c['low']:.3f}, {c['high']:.3f}] of "
                f"~{c['universe']:.0f} items",
                highlight=[self.root],
            )
        return self

    def assert_no_errors(self) -> Topic:
        errors = self.query().errors().list()
        if errors:
            listing = "\n".join("  " + describe_span(s) for s in errors[:10])
            self._fail(f"{len(errors)} span(s) with status ERROR:\n{listing}", highlight=errors)
        return self

    def assert_llm_calls(self) -> Topic:
        """Every LLM call span follows the GenAI conventions."""
        calls = self.spans(prefix=n.CHAT_PREFIX)
        if not calls:
            self._fail("no LLM call (chat *) spans in the trace")
        bad = [
            c
            for c in calls
            if c.kind != "CLIENT"
            or any(c.attr(k) is None for k in n.GENAI_REQUIRED)
            or (c.status != "ERROR" and any(c.attr(k) is None for k in n.GENAI_RESPONSE))
            or c.name != f"{n.CHAT_PREFIX}{c.attr('gen_ai.request.model')}"
        ]
        if bad:
            self._fail(
                f"{len(bad)} LLM call span(s) miss GenAI attributes or naming", highlight=bad
            )
        return self

    def assert_counts_consistent(self) -> Topic:
        """Run totals equal the sums over its batches; batches hang under generation cycles."""
        batches = self.spans(n.BATCH_RECEIVE)
        sums = {
            n.RUN_BATCHES: len(batches),
            n.RUN_UNIQUE: sum(int(b.attr(n.BATCH_NEW, 0)) for b in batches),
            n.RUN_CANDIDATES: sum(int(b.attr(n.BATCH_CANDIDATES, 0)) for b in batches),
            n.RUN_DUPLICATES: sum(int(b.attr(n.BATCH_DUPLICATES, 0)) for b in batches),
        }
        wrong = {k: (self._count(k), v) for k, v in sums.items() if self._count(k) != v}
        if wrong:
            detail = ", ".join(
                f"{k}: run says {a}, batches sum to {b}" for k, (a, b) in wrong.items()
            )
            self._fail(f"trace counts disagree: {detail}", highlight=[self.root])
        by_id = {s.span_id: s for s in self.all_spans()}
        detached = [
            b
            for b in batches
            if not self._lost_with_its_producer(b)
            and (
                by_id.get(b.parent_span_id or "") is None
                or by_id[b.parent_span_id or ""].name != n.GENERATION_CYCLE
            )
        ]
        if detached:
            self._fail(
                f"{len(detached)} batch.receive span(s) not parented by a producer's "
                "generation.cycle (trace context not propagated)",
                highlight=detached[:5],
            )
        appended = sum(int(s.attr(n.FILE_LINES, 0)) for s in self.spans(n.FILE_APPEND))
        if appended != self.unique_count:
            self._fail(f"file.append spans wrote {appended} lines, run found {self.unique_count}")
        return self

    def assert_file_matches(self, path: Path | None = None) -> Topic:
        """The output file holds exactly the run's uniques (plus resumed ones), no duplicates."""
        path = Path(path) if path is not None else self.output_file
        if not path.exists():
            self._fail(f"output file {path} does not exist")
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        expected = self.unique_count + self.resumed_count
        if len(lines) != expected:
            self._fail(
                f"{path} has {len(lines)} lines; the trace says {self.unique_count} new + "
                f"{self.resumed_count} resumed = {expected}",
                highlight=[self.root],
            )
        keys = Counter(normalize(line) for line in lines)
        dupes = {k: c for k, c in keys.items() if c > 1}
        if dupes:
            sample = ", ".join(f"{k!r} x{c}" for k, c in list(dupes.items())[:10])
            self._fail(f"{path} has {len(dupes)} duplicate(s) under normalization: {sample}")
        return self

    def assert_restarts(self, at_least: int = 1) -> Topic:
        lost = self.spans(n.PRODUCER_LOST)
        respawns = [
            s for s in self.spans(n.PRODUCER_SPAWN) if int(s.attr(n.PRODUCER_RESTART, 0)) > 0
        ]
        if len(lost) < at_least or len(respawns) < at_least:
            self._fail(
                f"expected at least {at_least} producer restart(s); saw {len(lost)} "
                f"producer.lost and {len(respawns)} re-spawn span(s)"
            )
        return self

    # ------------------------------------------------------------- summary
    def summary(self) -> dict[str, object]:
        spans = self.all_spans()
        return {
            "topic": self.name,
            "trace_id": self.trace_id,
            "status": self.status,
            "unique": self.unique_count,
            "resumed": self.resumed_count,
            "candidates": self.candidate_count,
            "duplicates": self._count(n.RUN_DUPLICATES),
            "batches": self._count(n.RUN_BATCHES),
            "restarts": self._count(n.RUN_RESTARTS),
            "llm_calls": len([s for s in spans if s.name.startswith(n.CHAT_PREFIX)]),
            "spans": len(spans),
            "services": dict(Counter(s.service_name for s in spans)),
            "duration_s": round(self.root.duration_ms / 1000, 3),
            "errors": len([s for s in spans if s.status == "ERROR"]),
            "coverage": self.coverage,
        }

    def print_summary(self, file: TextIO | None = None) -> None:
        out = file or sys.stdout
        summary = self.summary()
        print(
            f"Topic {summary['topic']!r}: {summary['status']} in {summary['duration_s']}s", file=out
        )
        for key in (
            "unique",
            "resumed",
            "candidates",
            "duplicates",
            "batches",
            "llm_calls",
            "restarts",
            "errors",
            "coverage",
            "spans",
            "services",
            "trace_id",
        ):
            print(f"  {key:<11} {_readable(summary[key])}", file=out)


def _readable(value: object) -> str:
    """A summary value for people: a coverage estimate in words, a count per service."""
    if value is None:
        return "not estimated (too few requests)"
    if isinstance(value, dict) and "estimate" in value:
        return (
            f"{value['estimate']:.0%} (95% interval {value['low']:.0%}-{value['high']:.0%}) "
            f"of ~{value['universe']:,.0f} reachable items"
        )
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return str(value)


def _coverage_of(attributes: Mapping[str, object]) -> dict[str, float] | None:
    """The estimate in a span's or an event's attributes, if there is one."""
    names = {
        "estimate": n.COVERAGE_ESTIMATE,
        "low": n.COVERAGE_LOW,
        "high": n.COVERAGE_HIGH,
        "universe": n.COVERAGE_UNIVERSE,
        "found": n.COVERAGE_FOUND,
    }
    out = {}
    for key, name in names.items():
        value = attributes.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        out[key] = float(value)
    return out
