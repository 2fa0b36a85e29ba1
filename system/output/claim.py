"""Claiming an output folder: one run at a time, and only the topic it holds.

``OutputLock`` is an OS file lock (``flock``) on ``<output>/.lock``, held for
the whole run and released by the kernel however the process ends (SIGKILL
included), so a crashed run never leaves a stale lock and a second
orchestrator on the same folder is refused at once instead of interleaving
its lines with the first one's. ``check_output_files`` refuses, before
anything starts, a folder whose files cannot be ours: ``attributes.txt`` or
``run.json`` that is not a regular file, or a ``run.json`` naming another
topic (a resume would mix two topics in one file).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
from pathlib import Path

from system.output.slug import topic_identity

LOCK_NAME = ".lock"
FILES = (
    "attributes.txt",
    "attributes.jsonl",
    "run.json",
    "attributes.txt.tmp",
    "attributes.jsonl.tmp",
    "run.json.tmp",
)


#: errors that mean "no room to write": the disk, a quota, the file size limit
DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


class OutputError(Exception):
    """The output folder cannot be used for this run; the message says why."""

    def __init__(self, message: str, *, disk_full: bool = False) -> None:
        super().__init__(message)
        #: the cause is a full disk (web mode answers 507 Insufficient Storage)
        self.disk_full = disk_full

    @classmethod
    def from_os(cls, what: str, path: Path, exc: OSError) -> OutputError:
        """``cannot <what> <path>: <reason>; <fix>`` for a failed file operation."""
        return cls(describe_os_error(what, path, exc), disk_full=exc.errno in DISK_FULL)


_FIXES = {
    errno.ENOSPC: "free disk space and run again (the run resumes)",
    errno.EDQUOT: "free disk space and run again (the run resumes)",
    errno.EFBIG: "raise the file size limit (ulimit -f) and run again (the run resumes)",
    errno.EISDIR: "remove or rename it, it must be a regular file",
    errno.ENOTDIR: "remove or rename it, it must be a regular file",
    errno.ELOOP: "it is a symbolic link: use the real folder as --output",
    errno.EACCES: "make it writable or choose another --output",
    errno.EPERM: "make it writable or choose another --output",
    errno.EROFS: "the file system is read-only: choose another --output",
}


def describe_os_error(what: str, path: Path, exc: OSError) -> str:
    """One line for a failed file operation: ``cannot <what> <path>: <reason>; <fix>``."""
    reason = exc.strerror or str(exc)
    fix = _FIXES.get(exc.errno or 0)
    return f"cannot {what} {path}: {reason}" + (f"; {fix}" if fix else "")


def check_output_files(output_dir: Path, topic: str) -> None:
    for name in FILES:
        path = output_dir / name
        if path.is_symlink():  # it would be followed and written through
            raise OutputError(
                f"{path} is a symbolic link; use the folder it points into as --output"
            )
        if path.exists() and not path.is_file():
            raise OutputError(f"{path} exists and is not a regular file")
    summary = output_dir / "run.json"
    if not summary.is_file():
        return
    try:
        recorded = json.loads(summary.read_text(encoding="utf-8")).get("topic")
    except (OSError, ValueError, AttributeError):
        return  # unreadable: the run rewrites it; attributes.txt alone decides the resume
    if isinstance(recorded, str) and topic_identity(recorded) != topic_identity(topic):
        raise OutputError(
            f"{output_dir} holds a run of another topic ({recorded!r}, per its run.json); "
            "choose another --output"
        )


class OutputLock:
    def __init__(self, output_dir: Path) -> None:
        self.path = output_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> OutputLock:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise OutputError.from_os("create the lock file", self.path, exc) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise OutputError(
                f"another run (pid {holder}) is writing to {self.path.parent}; "
                "wait for it to end or choose another --output"
            ) from None
        try:  # the pid is for the message above; a full disk must not keep the lock
            os.ftruncate(fd, 0)
            data, offset = f"{os.getpid()}\n".encode(), 0
            while offset < len(data):  # a short write at the file size limit: EFBIG next
                offset += os.pwrite(fd, data[offset:], offset)
        except OSError as exc:
            os.close(fd)  # drops the flock
            raise OutputError.from_os("write", self.path, exc) from exc
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None
