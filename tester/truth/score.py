"""Scoring an output folder (``attributes.txt``, ``run.json``) against a truth set.

Per line of ``attributes.txt`` (blank lines ignored), in file order, the
first reading (``tester.truth.match``) that names a member or a listed
non-member decides:

* **valid**: it names a member not named by an earlier line;
* **duplicate**: it names a member an earlier line already named (``Texas``
  then ``The State of Texas (TX)``): the system wrote one entity twice;
* **invalid**: it names no member (a hallucination, parser junk, an echo of
  the prompt, a non-member).

``precision`` = valid / lines: the share of lines a user can keep, so alias
duplicates count against it as much as junk. ``recall`` = valid / universe.
``valid_per_1k_tokens`` = valid / (input + output tokens of run.json / 1000),
the figure of merit: distinct real members bought per token. ``requests``
are the batches the orchestrator received (one per answered LLM request) and
``wall_s`` is run.json's ``timings.duration_s``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tester.truth.match import readings
from tester.truth.sets import TruthSet, TruthSetError, for_topic


@dataclass
class Score:
    truth_set: str
    universe: int
    lines: int = 0
    valid: int = 0
    duplicates: int = 0
    invalid: int = 0
    tokens: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    requests: int = 0
    wall_s: float = 0.0
    found: list[str] = field(default_factory=list)  # canonical names, in first-seen order
    duplicate_lines: list[str] = field(default_factory=list)
    invalid_lines: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.valid / self.lines if self.lines else 0.0

    @property
    def recall(self) -> float:
        return self.valid / self.universe if self.universe else 0.0

    @property
    def valid_per_1k_tokens(self) -> float:
        return 1000 * self.valid / self.tokens if self.tokens else 0.0

    def missing(self, truth: TruthSet) -> list[str]:
        found = set(self.found)
        return [names[0] for names in truth.members if names[0] not in found]

    def to_dict(self, *, samples: int = 20) -> dict[str, Any]:
        data = asdict(self)
        data["duplicate_lines"] = self.duplicate_lines[:samples]
        data["invalid_lines"] = self.invalid_lines[:samples]
        data.update(
            precision=round(self.precision, 4),
            recall=round(self.recall, 4),
            valid_per_1k_tokens=round(self.valid_per_1k_tokens, 3),
        )
        return data

    def summary(self) -> str:
        return (
            f"{self.truth_set}: {self.lines} lines, {self.valid} valid of {self.universe} "
            f"(precision {self.precision:.2f}, recall {self.recall:.2f}), "
            f"{self.duplicates} duplicates under aliases, {self.invalid} invalid; "
            f"{self.tokens:,} tokens ({self.valid_per_1k_tokens:.2f} valid/1k), "
            f"{self.requests} requests, {self.wall_s:.1f}s"
        )


def score_lines(lines: Iterable[str], truth: TruthSet) -> Score:
    """Classify every non-blank line (see the module docstring); no token figures."""
    score = Score(truth.name, truth.size)
    seen: set[int] = set()
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        score.lines += 1
        member = None
        for key in readings(line):
            if truth.is_excluded(key):
                break
            member = truth.lookup(key)
            if member is not None:
                break
        if member is None:
            score.invalid += 1
            score.invalid_lines.append(line)
        elif member in seen:
            score.duplicates += 1
            score.duplicate_lines.append(line)
        else:
            seen.add(member)
            score.valid += 1
            score.found.append(truth.canonical(member))
    return score


def read_run(folder: Path) -> dict[str, Any]:
    path = folder / "run.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TruthSetError(f"{path}: no run.json (is {folder} an output folder?)") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise TruthSetError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise TruthSetError(f"{path}: not a JSON object")
    return data


def score_output(folder: Path, truth: TruthSet | None = None) -> Score:
    """Score ``folder/attributes.txt`` with the tokens, requests and wall time of its
    ``run.json``; without ``truth``, the shipped set for the run's topic."""
    folder = Path(folder)
    run = read_run(folder)
    if truth is None:
        topic = str(run.get("topic", ""))
        truth = for_topic(topic)
        if truth is None:
            raise TruthSetError(f"no shipped truth set judges the topic {topic!r}; pass --set")
    path = folder / "attributes.txt"
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise TruthSetError(f"{path}: no attributes.txt") from None
    score = score_lines(text.splitlines(), truth)
    counts = run.get("counts") or {}
    score.input_tokens = int(counts.get("input_tokens", 0))
    score.output_tokens = int(counts.get("output_tokens", 0))
    score.tokens = score.input_tokens + score.output_tokens
    score.requests = int(counts.get("batches", 0))
    score.wall_s = float((run.get("timings") or {}).get("duration_s", 0.0))
    return score
