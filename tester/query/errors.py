"""The two ways a trace check can fail without the system being at fault."""

from __future__ import annotations


class IncompleteTrace(AssertionError):
    """The trace cannot be judged: a span's parent never arrived, a span came from a
    process the schema does not know, or the trace never finished arriving. The
    tester reports this as "incomplete trace", not as a failure of the system."""


class NoTelemetry(AssertionError):
    """No span at all arrived: the system may well work, but it cannot be judged
    from its traces. The tester reports this as "no telemetry"."""
