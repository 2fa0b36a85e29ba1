"""The orchestrator's stop signals: SIGINT, SIGTERM and SIGHUP alike.

SIGHUP is what a closed terminal sends. It used to kill the orchestrator at
once (the default action), leaving producers to die on their own and
``run.json`` saying ``running``. Now it stops the run like SIGTERM. The
terminal is gone by then, so every descriptor still open on it (the standard
streams, the live table's copy of stderr) is pointed at ``/dev/null`` first:
the log lines, the table and the final summary written afterwards would
otherwise fail with EIO.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import stat
from collections.abc import Callable, Iterator

#: what stops a run (the first one; the caller decides what a second one does)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def install_stop_handlers(
    loop: asyncio.AbstractEventLoop, on_signal: Callable[[int], None]
) -> None:
    """Call ``on_signal(signum)`` on the loop for every stop signal."""
    terminal = _terminal_device()

    def handle(signum: int) -> None:
        if signum == signal.SIGHUP and terminal is not None:
            detach_from_terminal(terminal)
        on_signal(signum)

    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, handle, sig)


def _terminal_device() -> int | None:
    """The device number of the terminal on a standard stream, if any."""
    for fd in (2, 1, 0):
        with contextlib.suppress(OSError):
            if os.isatty(fd):
                return os.fstat(fd).st_rdev
    return None


def _open_fds() -> Iterator[int]:
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        names = ["0", "1", "2"]
    for name in names:
        if name.isdigit():
            yield int(name)


def detach_from_terminal(device: int) -> None:
    """Point every open descriptor on the terminal ``device`` at /dev/null."""
    with contextlib.suppress(OSError):
        null = os.open(os.devnull, os.O_RDWR)
        try:
            for fd in _open_fds():
                with contextlib.suppress(OSError):
                    st = os.fstat(fd)
                    if fd != null and stat.S_ISCHR(st.st_mode) and st.st_rdev == device:
                        os.dup2(null, fd, inheritable=os.get_inheritable(fd))
        finally:
            os.close(null)
