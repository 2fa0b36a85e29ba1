"""Trace completeness: every span's parent arrived, every span comes from a known process."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from tester.collector import Span
from tester.query.errors import IncompleteTrace
from tester.query.evidence import describe_span, span_tree
from tester.tracebacks import hide_harness_frames

# pytest shows none of this module's frames for a failed check (tester/tracebacks.py)
__tracebackhide__ = hide_harness_frames


def dangling(spans: Iterable[Span]) -> list[Span]:
    """Spans whose parent is not among the spans (roots excluded)."""
    items = list(spans)
    ids = {(s.trace_id, s.span_id) for s in items}
    return [s for s in items if s.parent_span_id and (s.trace_id, s.parent_span_id) not in ids]


def assert_complete(
    spans: Iterable[Span],
    *,
    known_services: Iterable[str],
    allowed_root: Callable[[Span], bool] = lambda s: False,
    excused: Callable[[Span], bool] = lambda s: False,
) -> None:
    """Raise IncompleteTrace when a span's parent is missing or its service is unknown.

    ``allowed_root`` accepts spans that may dangle by design (a root continuing a
    TRACEPARENT from outside); ``excused`` accepts spans known to dangle for a
    reason the caller has checked (their process was SIGKILLed).
    """
    items = list(spans)
    known = set(known_services)
    orphans = [s for s in dangling(items) if not allowed_root(s) and not excused(s)]
    unknown = [s for s in items if s.service_name not in known]
    problems = []
    if orphans:
        problems.append(f"{len(orphans)} span(s) whose parent never arrived")
    if unknown:
        problems.append(
            f"{len(unknown)} span(s) from unknown process(es) "
            f"{sorted({s.service_name for s in unknown})}"
        )
    if not problems:
        return
    focus = orphans + unknown
    listed = "\n".join("  " + describe_span(s) for s in focus[:10])
    raise IncompleteTrace(
        f"incomplete trace: {'; '.join(problems)}\n\nspans in question (marked >> in the "
        f"tree):\n{listed}\n\nevidence:\n{span_tree(items, highlight=[s.span_id for s in focus])}"
    )
