"""Span trees for failure messages; the implementation lives in tester.query.evidence."""

from tester.query.evidence import describe_span, span_tree

__all__ = ["describe_span", "span_tree"]
