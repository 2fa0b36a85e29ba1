"""Span trees for failure messages; the implementation lives in tester.query.evidence."""

from tester.query.evidence import describe_span, span_tree
from tester.tracebacks import hide_harness_frames

# pytest shows none of this module's frames for a failed check (tester/tracebacks.py)
__tracebackhide__ = hide_harness_frames

__all__ = ["describe_span", "span_tree"]
