"""Which of the harness's frames a pytest failure shows: none of them, for a verdict.

A failed check (AssertionError, IncompleteTrace, NoTelemetry) already names the
query, the spans in question and the tree around them; the frames inside
``tester.query`` and ``tester.topic`` that raised it only push the evidence
off the screen. Modules set ``__tracebackhide__ = hide_harness_frames`` at
module level (pytest reads it from a frame's globals); any other exception is
a bug in the harness and keeps every frame. ``TESTER_FULL_TRACEBACK=1`` shows
them all.
"""

from __future__ import annotations

import os
from typing import Any

FULL_TRACEBACK_ENV = "TESTER_FULL_TRACEBACK"


def hide_harness_frames(excinfo: Any) -> bool:
    """pytest's ``__tracebackhide__`` callable: hide this frame for a failed check."""
    if os.environ.get(FULL_TRACEBACK_ENV, "").strip() not in ("", "0"):
        return False
    return bool(excinfo.errisinstance(AssertionError))
