"""Append-only attributes.txt: each unique attribute once, in first-seen form.

Lines are appended per accepted batch and flushed to the OS immediately, so
a crash of the orchestrator loses at most the batch being processed. A
partial last line (a crash mid-write) is repaired when the file is reopened.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO


def _one_line(text: str) -> str:
    return " ".join(text.split())


class AttributesFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines_written = 0
        self.bytes_written = 0
        self._file: TextIO | None = None

    def open(self) -> list[str]:
        """Open for appending; return the lines already in the file (for resume)."""
        existing: list[str] = []
        if self.path.exists():
            data = self.path.read_bytes()
            text = data.decode("utf-8", errors="replace")
            existing = [line for line in text.splitlines() if line.strip()]
            if data and not data.endswith(b"\n"):
                # A crash cut the last line short: terminate it so appends stay line-aligned.
                with self.path.open("ab") as fh:
                    fh.write(b"\n")
        self._file = self.path.open("a", encoding="utf-8", newline="\n")
        return existing

    def append(self, attributes: Iterable[str]) -> int:
        """Write the attributes, one per line, and flush. Returns bytes written."""
        if self._file is None:
            raise RuntimeError("attributes file is not open")
        text = "".join(_one_line(a) + "\n" for a in attributes)
        if not text:
            return 0
        self._file.write(text)
        self._file.flush()
        size = len(text.encode("utf-8"))
        self.lines_written += text.count("\n")
        self.bytes_written += size
        return size

    def close(self) -> None:
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None
