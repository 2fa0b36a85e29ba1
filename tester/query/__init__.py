"""Span queries and assertions over collected spans.

    from tester.query import spans

    q = spans(collector.store)                       # or a SpanStore, or any spans
    q.service("producer").name("chat *").where(**{"gen_ai.provider.name": "simulated"}).at_least(10)
    q.name("chat *").p95_below(500)                  # duration, milliseconds
    runs = q.name("producer.run")
    runs.ended_after_start_of(q.name("producers.stop"))
    q.name("batch.receive").where(**{"batch.new": lambda n: n > 0}).at_least(1)
    q.name("topic.run").one().attr("run.status")

Selecting: ``service``, ``name`` (exact or glob), ``where`` (attribute equality,
attribute predicates, span predicates), ``errors``, ``roots``, ``in_trace``,
``same_trace_as``, ``children_of``/``children``, ``parents_of``/``parents``,
``descendants_of``/``descendants``. Selections are in time order; ``first``,
``last``, ``by_end``, ``attr_values``, ``sum``, ``percentile_ms`` read them.

Asserting: ``exactly(n)``, ``at_least(n)``, ``at_most(n)``, ``none()``,
``one()``; ``percentile_below(q, ms)``, ``p95_below(ms)``,
``all_shorter_than(ms)``; ``ended_before_start_of``, ``ended_after_start_of``,
``ended_after_end_of``, ``started_after_end_of``. A failed assertion raises
AssertionError whose message names the query, the spans in question and the
tree they sit in (durations, attributes, errors).

``assert_complete`` raises ``IncompleteTrace`` (an AssertionError) when a
parent is missing or a span comes from an unknown process; the tester reports
it as "incomplete trace", apart from failures of the system. ``NoTelemetry``
says no span arrived at all.
"""

from tester.query.completeness import assert_complete, dangling
from tester.query.errors import IncompleteTrace, NoTelemetry
from tester.query.selection import Spans, spans

__all__ = ["IncompleteTrace", "NoTelemetry", "Spans", "assert_complete", "dangling", "spans"]
