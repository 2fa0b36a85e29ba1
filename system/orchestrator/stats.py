"""Live counters of a topic run: the run's, each producer slot's and each provider's.

A batch's counts are one ``BatchCounts`` value, made once by the ingest
(ingest.py). The three tallies it is added to (``RunStats``, ``ProducerStats``,
``ProviderStats``) are each a ``Tally``: ``Tally.add`` is the only place a
count is summed, and ``RunStats.add_batch`` the only place a batch is added.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields
from typing import Any, Literal

#: a producer slot's state (the live table, run.json, the web API)
SlotState = Literal["starting", "running", "finished", "restarting", "failed", "stopped"]


@dataclass(frozen=True)
class BatchCounts:
    """What one batch brought: its candidates and what deduplication made of them."""

    candidates: int = 0
    new: int = 0  # unique attributes it added to the file
    duplicates: int = 0
    rejected: int = 0  # empty, too long or not text
    prefiltered: int = 0  # dropped by the producer's pre-filter as already known: never sent
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass
class Tally:
    """The sum of the ``BatchCounts`` of some batches (a run's, a slot's, a provider's)."""

    requests: int = 0  # batches added: each is the answer to one model request
    candidates: int = 0
    new: int = 0
    duplicates: int = 0
    rejected: int = 0
    prefiltered: int = 0
    input_tokens: int = 0
    output_tokens: int = 0

    def add(self, counts: BatchCounts) -> None:
        self.requests += 1
        for f in fields(BatchCounts):
            setattr(self, f.name, getattr(self, f.name) + getattr(counts, f.name))

    @property
    def batches(self) -> int:
        return self.requests


@dataclass(kw_only=True)
class ProducerStats(Tally):
    """A producer slot: its batches' tally and its process's state."""

    producer_id: int
    state: SlotState = "starting"
    pid: int | None = None
    spawns: int = 0
    exits: int = 0
    last_exit_code: int | None = None
    errors: int = 0  # unexpected exits
    provider: str = ""  # the provider of its latest batch
    detail: str = ""

    @property
    def restarts(self) -> int:
        return max(0, self.spawns - 1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "producer_id": self.producer_id,
            "state": self.state,
            "pid": self.pid,
            "spawns": self.spawns,
            "batches": self.batches,
            "candidates": self.candidates,
            "new": self.new,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "exits": self.exits,
            "last_exit_code": self.last_exit_code,
            "errors": self.errors,
            "provider": self.provider,
            "detail": self.detail,
            "restarts": self.restarts,
        }


@dataclass
class ProviderStats(Tally):
    """What one provider contributed to the run (from the batches it answered)."""

    def to_dict(self) -> dict[str, Any]:
        tokens = self.input_tokens + self.output_tokens
        return {
            "requests": self.requests,
            "candidates": self.candidates,
            "new": self.new,  # unique contributions
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "new_per_1k_tokens": round(1000 * self.new / tokens, 2) if tokens else 0.0,
        }


@dataclass
class RunStats(Tally):
    """The run's tally (``new`` is its unique attributes), its slots, providers and timings."""

    started_monotonic: float = field(default_factory=time.monotonic)
    started_wall: float = field(default_factory=time.time)
    ended_wall: float | None = None
    resumed: int = 0
    rejected_connections: int = 0
    #: torn last lines of attributes.txt dropped on resume (a crash mid-write)
    torn_dropped: int = 0
    producers: dict[int, ProducerStats] = field(default_factory=dict)
    providers: dict[str, ProviderStats] = field(default_factory=dict)
    first_batch_monotonic: float | None = None
    last_batch_monotonic: float | None = None
    first_batch_candidates: int = 0
    #: the completeness estimate as one short text ("84% [79-90%] of ~897"), "" = none yet
    coverage: str = ""

    @property
    def unique(self) -> int:
        """Attributes this run added to the file (resumed ones not included)."""
        return self.new

    def add_batch(self, producer_id: int, provider: str, counts: BatchCounts) -> None:
        """One batch: into the run's tally, its producer slot's and its provider's."""
        self.mark_batch(counts.candidates)
        slot = self.producers[producer_id]
        for tally in (self, self.providers.setdefault(provider, ProviderStats()), slot):
            tally.add(counts)
        slot.provider = provider

    def mark_batch(self, candidates: int) -> None:
        """Note a batch's arrival time: the ingest window runs from the first to the last."""
        now = time.monotonic()
        if self.first_batch_monotonic is None:
            self.first_batch_monotonic = now
            self.first_batch_candidates = candidates
        self.last_batch_monotonic = now

    def ingest(self) -> dict[str, float]:
        """The sustained rate: candidates after the first batch over first-to-last batch time.

        Spawning and stopping producers are outside this window, unlike the
        run's duration.
        """
        if self.first_batch_monotonic is None or self.last_batch_monotonic is None:
            return {"ingest_s": 0.0, "candidates_per_s": 0.0}
        window = self.last_batch_monotonic - self.first_batch_monotonic
        after_first = self.candidates - self.first_batch_candidates
        rate = after_first / window if window > 0 else 0.0
        return {"ingest_s": round(window, 3), "candidates_per_s": round(rate, 1)}

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started_monotonic

    @property
    def duplicate_rate(self) -> float:
        return self.duplicates / self.candidates if self.candidates else 0.0

    @property
    def generated(self) -> int:
        """Items the LLMs produced: the candidates sent plus those the pre-filter dropped."""
        return self.candidates + self.prefiltered

    @property
    def generated_duplicate_rate(self) -> float:
        """The share of generated items that were already known: what duplicates cost."""
        generated = self.generated
        return (self.duplicates + self.prefiltered) / generated if generated else 0.0

    @property
    def rate_per_second(self) -> float:
        elapsed = self.elapsed
        return self.unique / elapsed if elapsed > 0 else 0.0

    @property
    def restarts(self) -> int:
        return sum(p.restarts for p in self.producers.values())

    def counts(self) -> dict[str, Any]:
        return {
            "unique": self.unique,
            "resumed": self.resumed,
            "total_in_file": self.unique + self.resumed,
            "candidates": self.candidates,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "duplicate_rate": round(self.duplicate_rate, 4),
            "generated": self.generated,
            "prefiltered": self.prefiltered,
            "generated_duplicate_rate": round(self.generated_duplicate_rate, 4),
            "batches": self.batches,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "restarts": self.restarts,
            "rejected_connections": self.rejected_connections,
            "torn_lines_dropped": self.torn_dropped,
        }
