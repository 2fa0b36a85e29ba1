"""Each producer batch, from the wire into the output files and the counts.

The steps, in order: deduplicate against the run's index (dedup/index.py),
hold back near-duplicates (``--near-duplicates``: they go to
near_duplicates.txt, not to the list), append the new attributes to
attributes.txt and their evidence to attributes.jsonl, record the batch on
its ``batch.receive`` span, and add its ``BatchCounts`` to the run's stats.

A write error fails the run (``fail``): the batch's lines are not in the
file, so they count as not found, and nothing more is written after it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import IO

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from system.dedup.index import DedupIndex
from system.levers.prefilter import unpack_keys
from system.orchestrator.stats import BatchCounts, RunStats
from system.output import AttributesFile, OutputError
from system.output.attributes_jsonl import SupportFile
from system.protocol import AttributeBatch
from system.telemetry import context_from
from system.telemetry import schema as s

log = logging.getLogger(__name__)

#: new attributes -> (kept, near duplicates as (item, the attribute it resembles))
NearFilter = Callable[[list[str]], tuple[list[str], list[tuple[str, str]]]]


class NearDuplicatesFile:
    """near_duplicates.txt: one line per held-back variant, TAB, the attribute it resembles.

    Opened on the first near-duplicate, so a run without any leaves no file.
    """

    def __init__(self, path: Path, fail: Callable[[str], None]) -> None:
        self.path = path
        self._fail = fail
        self._file: IO[str] | None = None

    def write(self, near: list[tuple[str, str]]) -> None:
        try:
            if self._file is None:
                self._file = self.path.open("a", encoding="utf-8")
            self._file.write("".join(f"{a}\t{b}\n" for a, b in near))
            self._file.flush()
        except OSError as exc:
            self._fail(f"cannot write {self.path.name}: {exc.strerror or exc}")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


class BatchIngest:
    def __init__(
        self,
        *,
        attributes_path: Path,
        output_dir: Path,
        index: DedupIndex,
        stats: RunStats,
        tracer: trace.Tracer,
        run_id: str,
        near_filter: NearFilter,
        fail: Callable[[str], None],
    ) -> None:
        self.index = index
        self.file = AttributesFile(attributes_path)
        # sighting counts: attributes.jsonl and the completeness estimate (coverage.py)
        self.support = SupportFile(output_dir / "attributes.jsonl")
        self.near = NearDuplicatesFile(output_dir / "near_duplicates.txt", fail)
        self._stats = stats
        self._tracer = tracer
        self._run_id = run_id
        self._near_filter = near_filter
        self._fail = fail
        self._write_failed = False
        #: called with (index of the first new line, new lines) after each append
        self.on_append: Callable[[int, list[str]], None] | None = None

    # -------------------------------------------------------------- open/close
    def open(self) -> list[str]:
        """Open attributes.txt and attributes.jsonl aligned with it; their lines and
        counts go into the index. OutputError (one line naming the file and the fix)
        when either cannot be opened."""
        try:
            existing = self.file.open()
        except OSError as exc:
            raise OutputError.from_os("open", self.file.path, exc) from exc
        self._stats.torn_dropped = self.file.torn_dropped
        try:
            self._stats.resumed = self.support.open(existing, self.index)
        except OSError as exc:
            self.file.close()
            raise OutputError.from_os("open", self.support.path, exc) from exc
        return existing

    def close(self) -> None:
        self.file.close()
        try:
            self.support.close(self.index)
        except OSError as exc:
            log.warning("cannot write %s: %s", self.support.path, exc)
        self.near.close()

    # ------------------------------------------------------------------- batch
    def receive(
        self, producer_id: int, batch: AttributeBatch, react: Callable[[list[str]], None]
    ) -> BatchCounts:
        """Ingest one batch; ``react`` gets its new attributes inside its span (the levers)."""
        candidates = [c for c in batch.candidates if isinstance(c, str)]
        not_text = len(batch.candidates) - len(candidates)
        with self._tracer.start_as_current_span(
            s.SPAN_BATCH_RECEIVE,
            context=context_from(batch.trace_context),
            kind=SpanKind.CONSUMER,
            attributes={
                s.PRODUCER_ID: producer_id,
                s.BATCH_SEQ: batch.seq,
                s.BATCH_CANDIDATES: len(batch.candidates),
                s.RUN_ID: self._run_id,
            },
        ) as span:
            keys = batch.keys if not_text == 0 else None
            repeats = unpack_keys(batch.repeat_keys) if isinstance(batch.repeat_keys, bytes) else []
            result = self.index.add_batch(
                candidates,
                keys,
                producer_id=producer_id,
                provider=batch.provider,
                repeat_keys=repeats,
            )
            result.new, near = self._near_filter(result.new)
            if result.new and not self._append(result.new):
                result.new = []  # not in the file, so not found: the run is failing
            if near:
                self.near.write(near)
            counts = BatchCounts(
                candidates=len(batch.candidates),
                new=len(result.new),
                duplicates=result.duplicates,
                rejected=result.rejected + not_text,
                prefiltered=batch.prefiltered or 0,
                input_tokens=batch.input_tokens,
                output_tokens=batch.output_tokens,
            )
            span.set_attributes(
                {
                    s.BATCH_NEW: counts.new,
                    s.BATCH_DUPLICATES: counts.duplicates,
                    s.BATCH_REJECTED: counts.rejected,
                    s.BATCH_INPUT_TOKENS: counts.input_tokens,
                    s.BATCH_OUTPUT_TOKENS: counts.output_tokens,
                }
            )
            if batch.prefiltered is not None:
                span.set_attribute(s.BATCH_PREFILTERED, batch.prefiltered)
            if repeats:
                span.set_attribute(s.BATCH_REPEATS, result.repeats)
            if near:
                span.set_attribute(s.BATCH_NEAR_DUPLICATES, len(near))
            if batch.partition:
                span.set_attribute(s.BATCH_PARTITION, batch.partition)
            if batch.strategy:
                span.set_attribute(s.BATCH_STRATEGY, batch.strategy)
            react(result.new)
        self._stats.add_batch(producer_id, batch.provider, counts)
        self._refresh_support()
        return counts

    def _append(self, lines: list[str]) -> bool:
        if self._write_failed:
            return False
        with self._tracer.start_as_current_span(
            s.SPAN_FILE_APPEND,
            attributes={s.FILE_PATH: str(self.file.path), s.FILE_LINES: len(lines)},
        ) as span:
            try:
                written = self.file.append(lines)
            except OSError as exc:
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, f"cannot write {self.file.path}"))
                self._write_failed = True
                self._fail(f"cannot write {self.file.path}: {exc.strerror or exc}")
                return False
            span.set_attribute(s.FILE_BYTES, written)
            try:
                self.support.append(lines, self.index)
            except OSError as exc:  # like attributes.txt: a write error ends the run
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, f"cannot write {self.support.path}"))
                self._write_failed = True
                # the batch leaves attributes.txt too: the two files stay line for line
                try:
                    self.file.cut_back(self.file.size - written, len(lines))
                except OSError as cut:
                    log.warning("cannot cut back %s: %s", self.file.path, cut)
                self._fail(f"cannot write {self.support.path}: {exc.strerror or exc}")
                return False
        if self.on_append is not None:
            self.on_append(self._stats.resumed + self._stats.unique, lines)
        return True

    def _refresh_support(self) -> None:
        """Rewrite attributes.jsonl with the current counts when it is due (a few % of time)."""
        if self.support.due():
            try:
                self.support.compact(self.index)
            except OSError as exc:
                log.warning("cannot rewrite %s: %s", self.support.path, exc)
