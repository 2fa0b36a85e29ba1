"""Append-only attributes.txt: each unique attribute once, in first-seen form.

Lines are appended per accepted batch with unbuffered writes, so a crash of
the orchestrator loses at most the batch being processed and nothing waits
in a buffer to fail later. A write that fails (disk full, file size limit)
is undone: the file is cut back to its last whole line before the error is
raised, so no torn line is left behind. A torn last line found on open (a
crash mid-write) is dropped, not kept: its text is not an attribute
(``Twin Librar``), and the producers will find the whole one again.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)


def _one_line(text: str) -> str:
    return " ".join(text.split())


class AttributesFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines_written = 0
        self.bytes_written = 0
        #: torn last lines dropped when the file was opened (0 or 1)
        self.torn_dropped = 0
        self._fd: int | None = None
        self._size = 0  # bytes of whole lines in the file

    def open(self) -> list[str]:
        """Open for appending; return the lines already in the file (for resume)."""
        existing: list[str] = []
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
        try:
            with open(fd, "rb", closefd=False) as fh:
                data = fh.read()
            if data and not data.endswith(b"\n"):
                cut = data.rfind(b"\n") + 1
                log.warning(
                    "dropping a torn last line of %s (%d bytes, a crash mid-write)",
                    self.path,
                    len(data) - cut,
                )
                os.ftruncate(fd, cut)
                data = data[:cut]
                self.torn_dropped = 1
        except BaseException:
            os.close(fd)
            raise
        text = data.decode("utf-8", errors="replace")
        existing = [line for line in text.splitlines() if line.strip()]
        self._fd, self._size = fd, len(data)
        return existing

    def append(self, attributes: Iterable[str]) -> int:
        """Write the attributes, one per line. Returns bytes written.

        On an OSError the file is cut back to the lines before this call and
        the error is raised: the file never keeps part of a batch."""
        if self._fd is None:
            raise RuntimeError("attributes file is not open")
        text = "".join(_one_line(a) + "\n" for a in attributes)
        if not text:
            return 0
        data = text.encode("utf-8")
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._size)
            raise
        self._size += len(data)
        self.lines_written += text.count("\n")
        self.bytes_written += len(data)
        return len(data)

    def close(self) -> None:
        """fsync and close; a failing fsync is logged, never raised (the run is ending)."""
        if self._fd is None:
            return
        try:
            os.fsync(self._fd)
        except OSError as exc:
            log.warning("cannot sync %s: %s", self.path, exc.strerror or exc)
        finally:
            os.close(self._fd)
            self._fd = None
