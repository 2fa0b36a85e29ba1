"""The embedded OTLP collector: receivers, span model and store."""

from tester.collector.collector import Collector
from tester.collector.spans import (
    Span,
    SpanEvent,
    SpanLink,
    spans_from_otlp_json,
    spans_to_otlp_json,
)
from tester.collector.store import SpanStore

__all__ = [
    "Collector",
    "Span",
    "SpanEvent",
    "SpanLink",
    "SpanStore",
    "spans_from_otlp_json",
    "spans_to_otlp_json",
]
