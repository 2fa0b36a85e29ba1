"""attributes.jsonl: the evidence behind each line of attributes.txt, in the same order.

One JSON object per attribute: ``display`` (exactly the attributes.txt line),
``key`` (the xxHash3-64 key, 16 hex digits: JSON numbers lose 64-bit
precision), ``sightings`` (requests that returned it), ``producers``,
``providers`` (distinct ones), ``first_seen`` and ``last_seen`` (ISO 8601
UTC; ``null`` when not known: an item resumed from a run without this file).

Crash safety, as attributes.txt: new attributes are appended per batch with
unbuffered writes; a write that fails is cut back (the batch's attributes.txt
lines too: the two files stay aligned) and a crash loses at most the batch in
flight. Their counts grow after they are written, so the file is also
rewritten with the current counts (a temporary file, fsync, ``os.replace``:
never a half-written file) at the end of the run and periodically during it
(``due``: at most 5% of the time). A rewrite copies every record whose
sightings did not change as raw bytes and renders only the changed ones.

On open (resume) the file is read back in one streaming pass beside
attributes.txt's lines: a record whose display is that line restores its
counts (its key is taken from the record: one line in 64 is re-keyed to prove
the keys are this version's, else all are recomputed); a torn last line is cut
off and lines without a record get one (``sightings`` 0: found before
counting) appended. Only a file that does not match attributes.txt (a hand
edit: records missing, extra or out of order, invalid lines) is rewritten in
full; a resume of an aligned file writes nothing but the missing tail.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from array import array
from collections import deque
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from system.dedup.index import DedupIndex
from system.dedup.keys import attribute_key
from system.dedup.normalize import clean_display, normalize
from system.dedup.sightings import Resumed
from system.output.attributes_file import APPEND_FLAGS, append_whole, one_line, replace_atomically

__all__ = ["RECENT", "SupportFile", "line_key", "parse_record", "support_of"]

RECENT = 50  # newest attributes whose support the live views show
MIN_COMPACT_INTERVAL_S = 5.0
#: resume: one record in this many has its key recomputed from its display
VERIFY_EVERY = 64


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")


def line_key(line: str) -> int:
    """The key of an attributes.txt line (as the index computes it)."""
    return attribute_key(normalize(clean_display(line)))


def support_of(index: DedupIndex, lines: Iterable[str]) -> list[int]:
    """Sightings of each attributes.txt line (0 when unknown)."""
    table = index.sightings
    out = []
    for line in lines:
        o = table.find(line_key(line))
        out.append(table.counts[o] if o >= 0 else 0)
    return out


_COUNTS = ("sightings", "producers", "providers")
_HEX = frozenset("0123456789abcdef")


def parse_record(raw: bytes | str) -> dict[str, Any] | None:
    """One line of the file as a record, or None when it is not one we could have
    written: not JSON (a torn line, invalid UTF-8, nesting too deep), or a
    ``display`` that is not one line of text (null, a newline, a lone surrogate),
    a ``key`` that is not 16 hex digits, or a count that is not an integer >= 0
    (``true`` included)."""
    try:
        record = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(record, dict):
        return None
    display, key = record.get("display"), record.get("key")
    if not isinstance(display, str) or not display or one_line(display) != display:
        return None
    if not isinstance(key, str) or len(key) != 16 or not _HEX.issuperset(key):
        return None
    for name in _COUNTS:  # sightings is required, the others may be absent
        value = record.get(name, None if name == "sightings" else 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            return None
    try:
        display.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: not text any file can hold
        return None
    return record


_decode = json.JSONDecoder().raw_decode


def _fields_of(raw: bytes, display: str) -> tuple[int, int, int, int] | None:
    """(key, sightings, producers, providers) of a record whose display is ``display``
    (a line of attributes.txt, so one-line text already), else None: the checks of
    ``parse_record`` that resume needs, at half its cost."""
    try:
        record = _decode(raw.decode("utf-8"))[0]
    except (ValueError, RecursionError):
        return None
    if type(record) is not dict or record.get("display") != display:
        return None
    key = record.get("key")
    s, p, v = record.get("sightings"), record.get("producers", 0), record.get("providers", 0)
    if type(key) is not str or len(key) != 16 or not _HEX.issuperset(key):
        return None
    if type(s) is not int or type(p) is not int or type(v) is not int or min(s, p, v) < 0:
        return None
    return int(key, 16), s, p, v


class SupportFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._size = 0  # bytes of whole records in the file
        self._keys = array("Q")  # the key of each record, in file order
        self._written = array("Q")  # its sightings as last written (0: rendered with none)
        self.recent: deque[tuple[str, int]] = deque(maxlen=RECENT)
        self._next_compact = 0.0
        self.compactions = 0
        #: resume: records rewritten because the file did not match attributes.txt
        self.rebuilt = False

    # ----------------------------------------------------------------- records
    def _record(
        self, display: str, key: int, index: DedupIndex, first: str | None = None
    ) -> dict[str, Any]:
        sight = index.sightings.get(key)
        if sight is None:
            counts: dict[str, Any] = {"sightings": 0, "producers": 0, "providers": 0}
            last = first
        else:
            counts = {"sightings": sight[1], "producers": sight[2], "providers": sight[3]}
            first = first or (_iso(sight[4]) if sight[1] else None)
            last = _iso(sight[5]) if sight[1] else first
        return {
            "display": display,
            "key": f"{key:016x}",
            **counts,
            "first_seen": first,
            "last_seen": last,
        }

    def _line(self, display: str, key: int, index: DedupIndex, first: str | None = None) -> bytes:
        record = self._record(display, key, index, first)
        self._keys.append(key)
        self._written.append(record["sightings"])
        return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")

    # -------------------------------------------------------------------- open
    def open(self, existing: list[str], index: DedupIndex) -> int:
        """Resume: load ``existing`` (attributes.txt's lines) into the index with the
        counts recorded here, align the file with them and open it for appending.
        Returns how many distinct keys the index got."""
        started = time.monotonic()
        keys, seen, producers, providers = (array("Q") for _ in range(4))
        firsts: dict[int, str] = {}  # only when the file is rebuilt: the records' first_seen
        fd = os.open(self.path, APPEND_FLAGS, 0o644)
        try:
            good_end, others = self._read_aligned(fd, existing, keys, seen, producers, providers)
            if others is not None:  # out of step: match every line by its key or display
                keys, seen, producers, providers = (array("Q") for _ in range(4))
                for line in existing:
                    key = line_key(line)
                    found = others.get(key) or others.get(line) or (0, 0, 0, None)
                    keys.append(key)
                    seen.append(found[0])
                    producers.append(found[1])
                    providers.append(found[2])
                    if found[3] is not None:
                        firsts[key] = found[3]
            matched = len(keys)
            tail = existing[matched:]  # lines without a record: appended below
            keys.extend(line_key(line) for line in tail)
            zeros = array("Q", bytes(8 * len(tail)))
            seen.extend(zeros)
            producers.extend(zeros)
            providers.extend(zeros)
            loaded = index.load_resumed(Resumed(keys, seen, producers, providers))
            if others is None:
                os.ftruncate(fd, good_end)  # a torn last record (a crash mid-write) goes
                self._keys, self._written = keys[:matched], seen[:matched]
                data = b"".join(
                    self._line(line, key, index)
                    for line, key in zip(tail, keys[matched:], strict=True)
                )
                append_whole(fd, data, good_end)
                self._size = good_end + len(data)
            else:
                self.rebuilt = True
                os.close(fd)
                fd = -1
                replace_atomically(
                    self.path,
                    (
                        self._line(line, key, index, firsts.get(key))
                        for line, key in zip(existing, keys, strict=True)
                    ),
                )
                fd = os.open(self.path, APPEND_FLAGS, 0o644)
                self._size = os.fstat(fd).st_size
        except BaseException:
            if fd >= 0:
                os.close(fd)
            raise
        self._fd = fd
        took = time.monotonic() - started
        self._next_compact = time.monotonic() + max(MIN_COMPACT_INTERVAL_S, 20 * took)
        return loaded

    @staticmethod
    def _read_aligned(
        fd: int,
        existing: list[str],
        keys: array[int],
        seen: array[int],
        producers: array[int],
        providers: array[int],
    ) -> tuple[int, dict[int | str, tuple[int, int, int, str | None]] | None]:
        """Read the file's records in step with ``existing`` into the arrays.

        Returns (the end of the last whole record, None) when record N is line N's
        for every record (the common case: the file the last run left, maybe with a
        torn last record or fewer records than lines); else (0, every valid record
        by key and by display, as (sightings, producers, providers, first_seen))."""
        others: dict[int | str, tuple[int, int, int, str | None]] = {}
        aligned, good_end, offset = True, 0, 0
        with open(fd, "rb", closefd=False) as fh:
            for raw in fh:
                offset += len(raw)
                if not raw.endswith(b"\n"):
                    break  # a torn last line (a crash mid-write)
                n = len(keys)
                if aligned and n < len(existing):
                    fields = _fields_of(raw, existing[n])
                    # the keys are taken as written; a sample proves they are this version's
                    if fields is not None and (
                        n % VERIFY_EVERY != 0 or fields[0] == line_key(existing[n])
                    ):
                        keys.append(fields[0])
                        seen.append(fields[1])
                        producers.append(fields[2])
                        providers.append(fields[3])
                        good_end = offset
                        continue
                aligned = False
                _add_record(others, raw)
            if aligned:
                return good_end, None
            fh.seek(0)  # the records read in step: again, whole, for their first_seen
            for i, raw in enumerate(itertools.islice(fh, len(keys))):
                if not _add_record(others, raw):  # raw_decode took it: text after the JSON
                    was = (seen[i], producers[i], providers[i], None)
                    others.setdefault(keys[i], was)
                    others.setdefault(existing[i], was)
        return 0, others

    # ------------------------------------------------------------------ append
    def append(self, displays: Iterable[str], index: DedupIndex) -> None:
        """Records for attributes just appended to attributes.txt, written at once.
        On an OSError the file is cut back to the records before this call."""
        if self._fd is None:
            raise RuntimeError("attributes.jsonl is not open")
        parts = []
        new = []
        count = len(self._keys)
        for display in displays:
            line = one_line(display)
            key = line_key(line)
            new.append((line, key))
            parts.append(self._line(line, key, index))
        if not parts:
            return
        data = b"".join(parts)
        try:
            append_whole(self._fd, data, self._size)
        except OSError:
            del self._keys[count:]
            del self._written[count:]
            raise
        self._size += len(data)
        self.recent.extend(new)

    def recent_support(self, index: DedupIndex) -> list[list[Any]]:
        """[display, sightings, producers] of the newest attributes, oldest first."""
        out: list[list[Any]] = []
        for display, key in self.recent:
            sight = index.sightings.get(key)
            out.append([display, sight[1] if sight else 0, sight[2] if sight else 0])
        return out

    # ----------------------------------------------------------------- rewrite
    def due(self, now: float | None = None) -> bool:
        return (time.monotonic() if now is None else now) >= self._next_compact

    def compact(self, index: DedupIndex) -> None:
        """Rewrite the records whose counts changed since they were written (atomically:
        the others are copied as they are)."""
        if self._fd is None:
            return
        started = time.monotonic()
        table = index.sightings
        keys, written = self._keys, self._written
        changed: list[tuple[int, int]] = []

        def records() -> Iterator[bytes]:
            with self.path.open("rb") as fh:
                for i, raw in enumerate(fh):
                    if i >= len(keys) or not raw.endswith(b"\n"):
                        return  # nothing past the records this run knows of
                    o = table.find(keys[i])
                    now = table.counts[o] if o >= 0 else 0
                    old = parse_record(raw) if now != written[i] else None
                    if old is None:
                        yield raw
                        continue
                    first = old.get("first_seen")
                    record = self._record(
                        old["display"], keys[i], index, first if isinstance(first, str) else None
                    )
                    changed.append((i, record["sightings"]))
                    yield (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")

        replace_atomically(self.path, records())
        for i, sightings in changed:
            written[i] = sightings
        os.close(self._fd)
        self._fd = os.open(self.path, APPEND_FLAGS, 0o644)
        self._size = os.fstat(self._fd).st_size
        took = time.monotonic() - started
        self._next_compact = time.monotonic() + max(MIN_COMPACT_INTERVAL_S, 20 * took)
        self.compactions += 1

    def close(self, index: DedupIndex) -> None:
        if self._fd is not None:
            try:
                self.compact(index)
                os.fsync(self._fd)
            finally:
                os.close(self._fd)
                self._fd = None


def _add_record(others: dict[int | str, tuple[int, int, int, str | None]], raw: bytes) -> bool:
    """A valid record's (sightings, producers, providers, first_seen), by key and by
    display; the first record of a key or display is kept. False: not a valid record."""
    record = parse_record(raw)
    if record is None:
        return False
    first = record.get("first_seen")
    counts = (
        record["sightings"],
        record.get("producers", 0),
        record.get("providers", 0),
        first if isinstance(first, str) else None,
    )
    others.setdefault(int(record["key"], 16), counts)
    others.setdefault(record["display"], counts)
    return True
