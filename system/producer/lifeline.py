"""The producer's tie to its orchestrator, set before anything else is imported.

``python -m system.producer`` calls ``die_with_parent`` first thing, before
the heavy imports (OpenTelemetry, the protocol, the levers): a producer spends
seconds importing on a loaded machine, and an orchestrator that died in that
window used to leave it running until its event loop saw stdin close. Only
the standard library is imported here.

The orchestrator puts its pid in ``PARENT_PID_ENV``: a parent that died
before the death signal was armed (the child was then re-parented) is caught
by comparing it with ``os.getppid()``.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

#: the orchestrator's pid, set in each producer's environment
PARENT_PID_ENV = "TOPIC_ENUMERATOR_PARENT_PID"
#: the producer's exit code when its orchestrator is gone before the start
EXIT_PARENT_GONE = 3
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Linux: SIGTERM when the orchestrator dies; exit at once if it already has.

    SIGHUP (a closed terminal, sent to the whole foreground group) is ignored:
    the orchestrator stops its producers, as it does on SIGINT.
    """
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError):
            pass
    expected = os.environ.get(PARENT_PID_ENV, "")
    if expected.isdigit() and os.getppid() != int(expected):
        print("producer: the orchestrator is gone; not starting", file=sys.stderr, flush=True)
        os._exit(EXIT_PARENT_GONE)
