"""BatchIngest: a batch through a real DedupIndex into real files, its span and its counts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from system.dedup.index import DedupIndex
from system.orchestrator.ingest import BatchIngest
from system.orchestrator.stats import BatchCounts, ProducerStats, RunStats
from system.protocol import AttributeBatch
from system.telemetry import schema as s


def no_near(new: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    return new, []


class Rig:
    def __init__(self, out: Path, near_filter=no_near) -> None:
        self.out = out
        self.exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.stats = RunStats()
        self.stats.producers = {1: ProducerStats(producer_id=1), 2: ProducerStats(producer_id=2)}
        self.failures: list[str] = []
        self.appended: list[tuple[int, list[str]]] = []
        self.reacted: list[list[str]] = []
        self.ingest = BatchIngest(
            attributes_path=out / "attributes.txt",
            output_dir=out,
            index=DedupIndex(),
            stats=self.stats,
            tracer=provider.get_tracer("test"),
            run_id="run-1",
            near_filter=near_filter,
            fail=self.failures.append,
        )
        self.ingest.on_append = lambda start, lines: self.appended.append((start, lines))

    def open(self) -> list[str]:
        return self.ingest.open()

    def receive(self, producer_id: int, candidates: list, **fields) -> BatchCounts:
        batch = AttributeBatch(
            producer_id=producer_id,
            seq=fields.pop("seq", 0),
            candidates=candidates,
            provider=fields.pop("provider", "sim"),
            model="m",
            **fields,
        )
        return self.ingest.receive(producer_id, batch, self.reacted.append)

    def spans(self, name: str):
        return [sp for sp in self.exporter.get_finished_spans() if sp.name == name]


def test_a_batch_is_deduplicated_written_traced_and_counted(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    assert rig.open() == []
    counts = rig.receive(
        1,
        ["Louvre", "louvre", "Eiffel Tower", "", 7],
        input_tokens=10,
        output_tokens=40,
        prefiltered=3,
    )
    assert counts == BatchCounts(
        candidates=5,
        new=2,
        duplicates=1,
        rejected=2,
        prefiltered=3,
        input_tokens=10,
        output_tokens=40,
    )
    second = rig.receive(2, ["Eiffel tower", "Notre-Dame"], seq=1, provider="other")
    assert (second.new, second.duplicates) == (1, 1)
    rig.ingest.close()

    assert (tmp_path / "attributes.txt").read_text() == "Louvre\nEiffel Tower\nNotre-Dame\n"
    records = [
        json.loads(line) for line in (tmp_path / "attributes.jsonl").read_text().splitlines()
    ]
    assert [r["display"] for r in records] == ["Louvre", "Eiffel Tower", "Notre-Dame"]
    assert rig.appended == [(0, ["Louvre", "Eiffel Tower"]), (2, ["Notre-Dame"])]
    assert rig.reacted == [["Louvre", "Eiffel Tower"], ["Notre-Dame"]]

    first = rig.spans(s.SPAN_BATCH_RECEIVE)[0].attributes
    assert first[s.PRODUCER_ID] == 1 and first[s.RUN_ID] == "run-1"
    assert (first[s.BATCH_CANDIDATES], first[s.BATCH_NEW], first[s.BATCH_DUPLICATES]) == (5, 2, 1)
    assert (first[s.BATCH_REJECTED], first[s.BATCH_PREFILTERED]) == (2, 3)
    appends = rig.spans(s.SPAN_FILE_APPEND)
    assert [a.attributes[s.FILE_LINES] for a in appends] == [2, 1]
    assert appends[0].parent.span_id == rig.spans(s.SPAN_BATCH_RECEIVE)[0].context.span_id

    st = rig.stats
    assert (st.batches, st.candidates, st.unique, st.duplicates, st.rejected) == (2, 7, 3, 2, 2)
    assert (st.prefiltered, st.input_tokens, st.output_tokens) == (3, 10, 40)
    assert (st.producers[1].new, st.producers[2].new, st.producers[2].provider) == (2, 1, "other")
    assert st.providers["sim"].requests == 1 and st.providers["other"].candidates == 2


def test_resume_loads_the_file_into_the_index(tmp_path: Path) -> None:
    (tmp_path / "attributes.txt").write_text("Louvre\nEiffel Tower\nOrsa")  # torn last line
    rig = Rig(tmp_path)
    assert rig.open() == ["Louvre", "Eiffel Tower"]
    assert (rig.stats.resumed, rig.stats.torn_dropped) == (2, 1)
    assert rig.receive(1, ["Louvre", "Orsay"]).new == 1
    assert rig.appended == [(2, ["Orsay"])]
    rig.ingest.close()


def test_near_duplicates_are_held_back_in_their_own_file(tmp_path: Path) -> None:
    def near(new: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
        return [n for n in new if n != "Louvres"], [(n, "Louvre") for n in new if n == "Louvres"]

    rig = Rig(tmp_path, near)
    rig.open()
    counts = rig.receive(1, ["Louvre", "Louvres"])
    rig.ingest.close()
    assert counts.new == 1
    assert (tmp_path / "attributes.txt").read_text() == "Louvre\n"
    assert (tmp_path / "near_duplicates.txt").read_text() == "Louvres\tLouvre\n"
    assert rig.spans(s.SPAN_BATCH_RECEIVE)[0].attributes[s.BATCH_NEAR_DUPLICATES] == 1


def test_a_write_error_fails_the_run_and_counts_nothing_new(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = Rig(tmp_path)
    rig.open()

    def disk_full(lines):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(rig.ingest.file, "append", disk_full)
    counts = rig.receive(1, ["Louvre"])
    assert counts.new == 0 and rig.stats.unique == 0
    assert rig.failures == [f"cannot write {tmp_path / 'attributes.txt'}: No space left on device"]
    assert rig.appended == []
    monkeypatch.undo()
    assert rig.receive(1, ["Orsay"]).new == 0  # after the first error nothing more is written
    assert len(rig.failures) == 1
    rig.ingest.close()
    assert (tmp_path / "attributes.txt").read_text() == ""
