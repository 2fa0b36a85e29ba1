"""``Spans``: a selection of spans, narrowed step by step and asserted on.

    spans(store).service("producer").name("chat *").where(
        **{"gen_ai.provider.name": "simulated"}
    ).at_least(10)

Every step returns a new selection; the spans it was taken from (the
*universe*, usually every span in the store) stay known, so relations
(children, descendants, same trace) and the evidence of a failed assertion
can look beyond the selection. Selections are in time order (start, then
end). Assertions return the selection, so they chain; a failed one raises
AssertionError with the evidence (see ``evidence``).
"""

from __future__ import annotations

import builtins
import fnmatch
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from tester.collector import Collector, Span, SpanStore
from tester.query.evidence import describe_span, span_tree
from tester.tracebacks import hide_harness_frames

# pytest shows none of this module's frames for a failed check (tester/tracebacks.py)
__tracebackhide__ = hide_harness_frames

Source = SpanStore | Collector | Iterable[Span]

_GLOB_CHARS = frozenset("*?[")


def spans(source: Source) -> Spans:
    """Every span of a store, a collector's store, or any iterable of spans."""
    if isinstance(source, Collector):
        items = source.store.all()
    elif isinstance(source, SpanStore):
        items = source.all()
    else:
        items = list(source)
    return Spans(items, universe=items, description="spans")


def _as_list(related: Spans | Span | Iterable[Span]) -> list[Span]:
    if isinstance(related, Span):
        return [related]
    return list(related)


def _time_order(items: Iterable[Span]) -> list[Span]:
    return sorted(items, key=lambda s: (s.start_ns, s.end_ns, s.span_id))


def _fmt_args(args: dict[str, Any]) -> str:
    return ", ".join(
        f"{k}={getattr(v, '__name__', 'predicate') if callable(v) else repr(v)}"
        for k, v in args.items()
    )


class Spans:
    """An immutable, time-ordered selection of spans from a universe of spans."""

    def __init__(
        self, items: Iterable[Span], *, universe: Sequence[Span], description: str
    ) -> None:
        self._items = _time_order(items)
        self._universe = list(universe)
        self.description = description

    # ------------------------------------------------------------- selecting
    def _narrow(self, keep: Callable[[Span], bool], step: str) -> Spans:
        return self._derive([s for s in self._items if keep(s)], step)

    def _derive(self, items: Iterable[Span], step: str) -> Spans:
        return Spans(items, universe=self._universe, description=f"{self.description}.{step}")

    def service(self, *names: str) -> Spans:
        """Spans from these services (resource ``service.name``)."""
        wanted = set(names)
        return self._narrow(lambda s: s.service_name in wanted, f"service({_fmt_names(names)})")

    def name(self, *patterns: str) -> Spans:
        """Spans whose name equals a pattern, or matches it as a glob (``chat *``)."""

        def matches(span: Span) -> bool:
            return any(
                fnmatch.fnmatchcase(span.name, p) if _GLOB_CHARS & set(p) else span.name == p
                for p in patterns
            )

        return self._narrow(matches, f"name({_fmt_names(patterns)})")

    def where(self, predicate: Callable[[Span], bool] | None = None, /, **attributes: Any) -> Spans:
        """Spans matching a predicate on the span and/or attributes: each keyword is an
        attribute key whose value must be equal, or, given a callable, make it true
        (``where(**{"batch.new": lambda n: n > 0})``). A missing attribute never matches."""
        missing = object()

        def matches(span: Span) -> bool:
            if predicate is not None and not predicate(span):
                return False
            for key, expected in attributes.items():
                value = span.attributes.get(key, missing)
                if value is missing:
                    return False
                if callable(expected):
                    if not expected(value):
                        return False
                elif value != expected:
                    return False
            return True

        shown = [getattr(predicate, "__name__", "predicate")] if predicate else []
        if attributes:
            shown.append(_fmt_args(attributes))
        return self._narrow(matches, f"where({', '.join(shown)})")

    def errors(self) -> Spans:
        """Spans with status ERROR."""
        return self._narrow(lambda s: s.status == "ERROR", "errors()")

    def roots(self) -> Spans:
        """Spans without a parent."""
        return self._narrow(lambda s: s.parent_span_id is None, "roots()")

    def in_trace(self, trace: str | Span) -> Spans:
        """Spans of one trace (a trace id, or the trace of a span)."""
        trace_id = trace.trace_id if isinstance(trace, Span) else trace
        return self._narrow(lambda s: s.trace_id == trace_id, f"in_trace({trace_id[:8]}..)")

    def same_trace_as(self, related: Spans | Span | Iterable[Span]) -> Spans:
        """Spans in a trace that holds one of the related spans."""
        traces = {s.trace_id for s in _as_list(related)}
        return self._narrow(lambda s: s.trace_id in traces, "same_trace_as(...)")

    def children_of(self, related: Spans | Span | Iterable[Span]) -> Spans:
        """Spans whose parent is one of the related spans."""
        ids = {(s.trace_id, s.span_id) for s in _as_list(related)}
        return self._narrow(lambda s: (s.trace_id, s.parent_span_id) in ids, "children_of(...)")

    def parents_of(self, related: Spans | Span | Iterable[Span]) -> Spans:
        """Spans that are the parent of one of the related spans."""
        ids = {(s.trace_id, s.parent_span_id) for s in _as_list(related)}
        return self._narrow(lambda s: (s.trace_id, s.span_id) in ids, "parents_of(...)")

    def descendants_of(self, related: Spans | Span | Iterable[Span]) -> Spans:
        """Spans below one of the related spans, at any depth (in the universe's tree)."""
        below = self._below({(s.trace_id, s.span_id) for s in _as_list(related)})
        return self._narrow(lambda s: (s.trace_id, s.span_id) in below, "descendants_of(...)")

    def children(self) -> Spans:
        """The universe's spans whose parent is in this selection."""
        ids = {(s.trace_id, s.span_id) for s in self._items}
        found = [s for s in self._universe if (s.trace_id, s.parent_span_id) in ids]
        return self._derive(found, "children()")

    def descendants(self) -> Spans:
        """The universe's spans below this selection, at any depth."""
        below = self._below({(s.trace_id, s.span_id) for s in self._items})
        found = [s for s in self._universe if (s.trace_id, s.span_id) in below]
        return self._derive(found, "descendants()")

    def parents(self) -> Spans:
        """The universe's spans that are the parent of a span in this selection."""
        ids = {(s.trace_id, s.parent_span_id) for s in self._items}
        found = [s for s in self._universe if (s.trace_id, s.span_id) in ids]
        return self._derive(found, "parents()")

    def filter(self, predicate: Callable[[Span], bool]) -> Spans:
        """Same as ``where(predicate)``."""
        return self.where(predicate)

    def _below(self, tops: set[tuple[str, str | None]]) -> set[tuple[str, str]]:
        children: dict[tuple[str, str | None], list[Span]] = {}
        for s in self._universe:
            children.setdefault((s.trace_id, s.parent_span_id), []).append(s)
        found: set[tuple[str, str]] = set()
        todo = list(tops)
        while todo:
            for child in children.get(todo.pop(), ()):
                key = (child.trace_id, child.span_id)
                if key not in found:
                    found.add(key)
                    todo.append(key)
        return found

    # ------------------------------------------------------------- reading
    def __iter__(self) -> Iterator[Span]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def __getitem__(self, index: int) -> Span:
        return self._items[index]

    def __repr__(self) -> str:
        return f"<Spans {self.description}: {len(self._items)}>"

    def list(self) -> list[Span]:
        return list(self._items)

    def count(self) -> int:
        return len(self._items)

    def first(self) -> Span | None:
        """The span that started first, or None."""
        return self._items[0] if self._items else None

    def last(self) -> Span | None:
        """The span that started last, or None."""
        return self._items[-1] if self._items else None

    # ``builtins.list``: inside this class ``list`` is the method above
    def by_end(self) -> builtins.list[Span]:
        """The spans in the order they ended."""
        return sorted(self._items, key=lambda s: (s.end_ns, s.start_ns))

    def attr_values(self, key: str) -> builtins.list[Any]:
        """The attribute's value on every span that has it, in time order."""
        return [s.attributes[key] for s in self._items if key in s.attributes]

    def sum(self, key: str) -> float:
        """Sum of a numeric attribute (missing counts as 0)."""
        return sum(s.attributes.get(key, 0) or 0 for s in self._items)

    def durations_ms(self) -> builtins.list[float]:
        return [s.duration_ms for s in self._items]

    def percentile_ms(self, q: float) -> float:
        """The q-th percentile (0..100, nearest rank) of the durations; NaN when empty."""
        if not 0 <= q <= 100:
            raise ValueError(f"percentile must be within 0..100, not {q}")
        values = sorted(self.durations_ms())
        if not values:
            return math.nan
        rank = max(1, math.ceil(q / 100 * len(values)))
        return values[rank - 1]

    # ------------------------------------------------------------- evidence
    def evidence(self, *, looked_at: Sequence[Span] | None = None, limit: int = 80) -> str:
        """The selection's traces as a tree, the selected spans (or ``looked_at``) marked >>.
        With nothing selected, the whole universe is the place that was looked at."""
        marked = list(self._items if looked_at is None else looked_at)
        traces = {s.trace_id for s in marked}
        shown = [s for s in self._universe if s.trace_id in traces] if traces else self._universe
        if not shown:
            return "(no spans at all)"
        return span_tree(shown, highlight=[s.span_id for s in marked], limit=limit)

    def fail(self, message: str, *, looked_at: Sequence[Span] | None = None) -> None:
        """Raise AssertionError: message, the spans in question, and the tree around them."""
        focus = list(self._items if looked_at is None else looked_at)
        tree = self.evidence(looked_at=focus)
        # each span once: listed apart only when the (cut) tree does not show it
        missing = [s for s in focus if f">> {describe_span(s)}" not in tree]
        listed = "\n".join("  " + describe_span(s) for s in missing[:10])
        if len(missing) > 10:
            listed += f"\n  ... and {len(missing) - 10} more"
        if missing:
            question = f"\n\nspans in question not in the tree below:\n{listed}"
        else:
            question = "\n\nspans in question: marked >> in the tree below" if focus else ""
        raise AssertionError(
            f"{self.description}: {message}"
            + question
            + f"\n\nevidence ({len(self._universe)} spans looked at):\n"
            + tree
        )

    # ------------------------------------------------------------- count assertions
    def exactly(self, n: int) -> Spans:
        if len(self) != n:
            self.fail(f"expected exactly {n} span(s), found {len(self)}")
        return self

    def at_least(self, n: int) -> Spans:
        if len(self) < n:
            self.fail(f"expected at least {n} span(s), found {len(self)}")
        return self

    def at_most(self, n: int) -> Spans:
        if len(self) > n:
            self.fail(f"expected at most {n} span(s), found {len(self)}")
        return self

    def none(self) -> Spans:
        if self._items:
            self.fail(f"expected no span, found {len(self)}")
        return self

    def one(self) -> Span:
        """Assert there is exactly one span, and return it."""
        return self.exactly(1)._items[0]

    # ------------------------------------------------------------- duration assertions
    def percentile_below(self, q: float, bound_ms: float) -> Spans:
        """The q-th percentile of the durations is below ``bound_ms`` (needs a span)."""
        if not self._items:
            self.fail(f"no span to take the p{q:g} duration of")
        value = self.percentile_ms(q)
        if not value < bound_ms:
            slow = [s for s in self._items if s.duration_ms >= bound_ms]
            self.fail(
                f"p{q:g} duration {value:.1f}ms is not below {bound_ms:g}ms "
                f"({len(slow)} of {len(self)} spans at or above it)",
                looked_at=sorted(slow, key=lambda s: -s.duration_ns),
            )
        return self

    def p95_below(self, bound_ms: float) -> Spans:
        return self.percentile_below(95, bound_ms)

    def all_shorter_than(self, bound_ms: float) -> Spans:
        slow = [s for s in self._items if s.duration_ms >= bound_ms]
        if slow:
            self.fail(f"{len(slow)} span(s) took {bound_ms:g}ms or more", looked_at=slow)
        return self

    # ------------------------------------------------------------- ordering assertions
    def ended_before_start_of(self, other: Spans | Span | Iterable[Span]) -> Spans:
        """Every span here ended before every one of ``other`` started ("A before B")."""
        return self._order(other, "end", "start", after=False, what="ended before the start of")

    def ended_after_start_of(self, other: Spans | Span | Iterable[Span]) -> Spans:
        """Every span here ended after every one of ``other`` started."""
        return self._order(other, "end", "start", after=True, what="ended after the start of")

    def ended_after_end_of(self, other: Spans | Span | Iterable[Span]) -> Spans:
        """Every span here ended after every one of ``other`` ended."""
        return self._order(other, "end", "end", after=True, what="ended after the end of")

    def started_after_end_of(self, other: Spans | Span | Iterable[Span]) -> Spans:
        """Every span here started after every one of ``other`` ended."""
        return self._order(other, "start", "end", after=True, what="started after the end of")

    def _order(
        self,
        other: Spans | Span | Iterable[Span],
        mine: str,
        theirs: str,
        *,
        after: bool,
        what: str,
    ) -> Spans:
        others = _as_list(other)
        if not others:
            self.fail(f"nothing to compare with: the other selection is empty ({what})")
        times = [s.start_ns if theirs == "start" else s.end_ns for s in others]
        edge = max(times) if after else min(times)

        def ok(s: Span) -> bool:
            t = s.start_ns if mine == "start" else s.end_ns
            return t > edge if after else t < edge

        wrong = [s for s in self._items if not ok(s)]
        if wrong:
            label = getattr(other, "description", None) or ", ".join(
                sorted({s.name for s in others})
            )
            self.fail(
                f"{len(wrong)} of {len(self)} span(s) not {what} {label}",
                looked_at=wrong + others[:5],
            )
        return self


def _fmt_names(names: Sequence[str]) -> str:
    return ", ".join(repr(n) for n in names)
