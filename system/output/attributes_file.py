"""Append-only attributes.txt: each unique attribute once, in first-seen form.

Lines are appended per accepted batch with unbuffered writes, so a crash of
the orchestrator loses at most the batch being processed and nothing waits
in a buffer to fail later. A write that fails (disk full, file size limit)
is undone: the file is cut back to its last whole line before the error is
raised, so no torn line is left behind. A torn last line found on open (a
crash mid-write) is dropped, not kept: its text is not an attribute
(``Twin Librar``), and the producers will find the whole one again.

Every line is one attribute in one-line form, so line N of attributes.txt is
record N of attributes.jsonl. A hand edit that breaks this (a blank line,
CRLF line ends, tabs or doubled spaces, bytes that are not UTF-8) is repaired
on open: the file is rewritten atomically (a temporary file, fsync,
``os.replace``) with every line in one-line form and no blank lines. A
symbolic link is never opened (``O_NOFOLLOW``): writing through it would
change a file outside the output folder.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

#: how attributes.txt and attributes.jsonl are opened: appends only, never through a symbolic link
APPEND_FLAGS = os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC | os.O_NOFOLLOW


def one_line(text: str) -> str:
    """``text`` as one attributes.txt line: whitespace runs become one space, none at the ends."""
    return " ".join(text.split())


def append_whole(fd: int, data: bytes, size: int) -> None:
    """Append ``data`` to the file open (O_APPEND) on ``fd``, whose whole content is
    ``size`` bytes. On an OSError the file is cut back to ``size`` before the error
    is raised: it never keeps part of ``data``."""
    view = memoryview(data)
    try:
        while view:
            view = view[os.write(fd, view) :]
    except OSError:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, size)
        raise


def replace_atomically(path: Path, chunks: Iterable[bytes]) -> None:
    """Write ``path`` through ``<path>.tmp`` (fsync, ``os.replace``): a reader sees the
    old file or the new one, never a half-written one. No ``.tmp`` is left behind
    when the write fails."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with tmp.open("wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            if tmp.is_file() and not tmp.is_symlink():
                tmp.unlink()
        raise


#: what a file of one-line, non-blank lines never holds: whitespace other than a
#: space, two spaces, a space at a line's start or end, an empty line
_NOT_ONE_LINE = re.compile(r"[^\S \n]|  |^ | $|^$", re.MULTILINE)


def _lines_of(data: bytes) -> tuple[list[str], bytes | None]:
    """The lines of ``data`` (whole lines only), and, when they are not all in
    one-line form, the bytes of the repaired file (None: nothing to repair)."""
    try:
        text, repair = data.decode("utf-8"), False
    except UnicodeDecodeError:
        text, repair = data.decode("utf-8", errors="replace"), True
    del data
    body = text[:-1]  # without the last newline: every line, none after it
    if not text:
        return [], None
    if repair or _NOT_ONE_LINE.search(body):
        existing = [line for line in map(one_line, body.split("\n")) if line]
        return existing, "".join(line + "\n" for line in existing).encode("utf-8")
    return body.split("\n"), None


class AttributesFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines_written = 0
        self.bytes_written = 0
        #: torn last lines dropped when the file was opened (0 or 1)
        self.torn_dropped = 0
        #: lines a hand edit left blank or not in one-line form, repaired on open
        self.repaired = 0
        self._fd: int | None = None
        self._size = 0  # bytes of whole lines in the file

    @property
    def size(self) -> int:
        """Bytes of whole lines in the file."""
        return self._size

    def open(self) -> list[str]:
        """Open for appending; return the lines already in the file (for resume)."""
        fd = os.open(self.path, APPEND_FLAGS, 0o644)
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
            existing, whole = _lines_of(data)
            if whole is not None:  # a hand edit: repair it before anything is appended
                self.repaired = sum(
                    1
                    for raw in data.split(b"\n")[:-1]
                    if not raw or one_line(raw.decode("utf-8", errors="replace")).encode() != raw
                )
                replace_atomically(self.path, [whole])
                os.close(fd)
                fd = os.open(self.path, APPEND_FLAGS, 0o644)
                log.warning(
                    "rewrote %s in one-line form: %d line(s) of a hand edit were blank, "
                    "had extra whitespace or were not UTF-8 (one line per record of "
                    "attributes.jsonl)",
                    self.path,
                    self.repaired,
                )
                data = whole
        except BaseException:
            os.close(fd)
            raise
        self._fd, self._size = fd, len(data)
        return existing

    def append(self, attributes: Iterable[str]) -> int:
        """Write the attributes, one per line. Returns bytes written.

        On an OSError the file is cut back to the lines before this call and
        the error is raised: the file never keeps part of a batch."""
        if self._fd is None:
            raise RuntimeError("attributes file is not open")
        text = "".join(one_line(a) + "\n" for a in attributes)
        if not text:
            return 0
        data = text.encode("utf-8")
        append_whole(self._fd, data, self._size)
        self._size += len(data)
        self.lines_written += text.count("\n")
        self.bytes_written += len(data)
        return len(data)

    def cut_back(self, size: int, lines: int) -> None:
        """Undo the last append (``lines`` lines after byte ``size``): its evidence
        could not be written to attributes.jsonl, and the two files stay aligned."""
        if self._fd is None or size > self._size:
            return
        os.ftruncate(self._fd, size)
        self.bytes_written -= self._size - size
        self.lines_written -= lines
        self._size = size

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
