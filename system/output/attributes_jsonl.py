"""attributes.jsonl: the evidence behind each line of attributes.txt, in the same order.

One JSON object per attribute: ``display`` (exactly the attributes.txt line),
``key`` (the xxHash3-64 key, 16 hex digits: JSON numbers lose 64-bit
precision), ``sightings`` (requests that returned it), ``producers``,
``providers`` (distinct ones), ``first_seen`` and ``last_seen`` (ISO 8601
UTC; ``null`` when not known: an item resumed from a run without this file).

Crash safety, as attributes.txt: new attributes are appended and flushed per
batch, so a crash loses at most the batch in flight. Their counts grow after
they are written, so the whole file is also rewritten with the current counts
(a temporary file, fsync, ``os.replace``: never a half-written file) at the
end of the run and periodically during it (``due``: at most 5% of the time).
On open (resume) the file is read back: lines that do not parse (a torn last
line) are dropped, the counts of every attributes.txt line are restored into
the index, and the file is rewritten aligned with attributes.txt (a line
without a record there gets ``sightings`` 0: found before counting).
"""

from __future__ import annotations

import json
import os
import time
from collections import deque
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from system.dedup.index import DedupIndex
from system.dedup.keys import attribute_key
from system.dedup.normalize import clean_display, normalize

__all__ = ["RECENT", "SupportFile", "line_key", "parse_record", "read_records", "support_of"]

RECENT = 50  # newest attributes whose support the live views show
MIN_COMPACT_INTERVAL_S = 5.0


def _one_line(text: str) -> str:
    return " ".join(text.split())


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
    if not isinstance(display, str) or not display or _one_line(display) != display:
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


def read_records(path: Path) -> list[dict[str, Any]]:
    """The file's records; lines that are not a valid record (parse_record) are skipped."""
    records: list[dict[str, Any]] = []
    if not path.exists():
        return records
    with path.open("rb") as fh:
        for raw in fh:
            record = parse_record(raw)
            if record is not None:
                records.append(record)
    return records


class SupportFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: Any = None
        self._first: dict[int, str] = {}  # resumed items' first_seen (not in the index)
        self.recent: deque[tuple[str, int]] = deque(maxlen=RECENT)
        self._next_compact = 0.0
        self.compactions = 0

    # ----------------------------------------------------------------- records
    def _record(self, display: str, key: int, index: DedupIndex) -> dict[str, Any]:
        sight = index.sightings.get(key)
        if sight is None:
            counts: dict[str, Any] = {"sightings": 0, "producers": 0, "providers": 0}
            first = last = self._first.get(key)
        else:
            counts = {"sightings": sight[1], "producers": sight[2], "providers": sight[3]}
            first = self._first.get(key) or (_iso(sight[4]) if sight[1] else None)
            last = _iso(sight[5]) if sight[1] else first
        return {
            "display": display,
            "key": f"{key:016x}",
            **counts,
            "first_seen": first,
            "last_seen": last,
        }

    # -------------------------------------------------------------------- open
    def open(self, existing: list[str], index: DedupIndex) -> None:
        """Resume: restore the counts of ``existing`` (attributes.txt's lines) and
        rewrite the file aligned with them; then open it for appending."""
        old = {}
        for record in read_records(self.path):
            try:
                old[int(record["key"], 16)] = record
            except ValueError:
                continue
        for line in existing:
            key = line_key(line)
            found = old.get(key)
            if found is None:
                continue
            record = found
            index.load_counts(
                key,
                _int(record.get("sightings")),
                _int(record.get("producers")),
                _int(record.get("providers")),
            )
            if isinstance(record.get("first_seen"), str):
                self._first[key] = record["first_seen"]
        self._rewrite(
            ((_one_line(line), line_key(line)) for line in existing if line.strip()), index
        )
        self._file = self.path.open("a", encoding="utf-8", newline="\n")

    # ------------------------------------------------------------------ append
    def append(self, displays: Iterable[str], index: DedupIndex) -> None:
        """Records for attributes just appended to attributes.txt; flushed."""
        if self._file is None:
            raise RuntimeError("attributes.jsonl is not open")
        parts = []
        for display in displays:
            line = _one_line(display)
            key = line_key(line)
            self.recent.append((line, key))
            parts.append(json.dumps(self._record(line, key, index), ensure_ascii=False) + "\n")
        if parts:
            self._file.write("".join(parts))
            self._file.flush()

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
        """Rewrite every record with the current counts (atomically)."""
        if self._file is None:
            return
        started = time.monotonic()
        self._file.close()
        self._file = None
        lines = []
        for record in read_records(self.path):
            try:
                lines.append((str(record["display"]), int(record["key"], 16)))
            except (KeyError, ValueError):
                continue
        self._rewrite(lines, index)
        self._file = self.path.open("a", encoding="utf-8", newline="\n")
        took = time.monotonic() - started
        self._next_compact = time.monotonic() + max(MIN_COMPACT_INTERVAL_S, 20 * took)
        self.compactions += 1

    def _rewrite(self, lines: Iterable[tuple[str, int]], index: DedupIndex) -> None:
        tmp = self.path.with_suffix(".jsonl.tmp")
        with tmp.open("w", encoding="utf-8", newline="\n") as fh:
            for display, key in lines:
                record = self._record(display, key, index)
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def close(self, index: DedupIndex) -> None:
        if self._file is not None:
            self.compact(index)
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
