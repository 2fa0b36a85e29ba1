"""Pair every request the fake server saw with the attempt span that claims it.

The join uses only what both sides know independently: the server's port,
the time (the server's arrival falls inside the attempt span; one clock on
one machine), and what was answered (status or the client's error type; for
an answer, the response model and token usage the span must repeat
exactly). A bipartite matching (augmenting paths) resolves overlapping
concurrent calls. What stays unmatched is the evidence: a request the trace
does not know, or an attempt the server never saw or answered otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tester.fake_llm.ledger import Entry, Ledger
from tester.oracle.attempts import CANCELLED, GAVE_UP, Attempt

TOLERANCE_S = 0.05
ABANDONED_LAG_S = 2.0
_ERROR_OF_OUTCOME = {
    "down": "connection_error",
    "garbage": "invalid_response",
    "truncated": "invalid_response",
    "empty": "empty_response",
    "hang": "timeout",
}


def compatible(entry: Entry, attempt: Attempt) -> bool:
    by_id = bool(attempt.response_id and entry.response_id)
    if by_id and attempt.response_id != entry.response_id:
        return False
    # a request the client gave up on may reach the server's handler after the client
    # stopped waiting (a loaded machine schedules the server thread late)
    late = ABANDONED_LAG_S if attempt.abandoned or attempt.error_type in GAVE_UP else TOLERANCE_S
    if not by_id and not (attempt.start - TOLERANCE_S <= entry.arrival <= attempt.end + late):
        return False
    if attempt.avoid_items is not None and entry.asked.get("kind") == "items":
        # the prompt the server got is the one the cycle says it built
        if attempt.avoid_items != len(entry.asked.get("avoid") or []):
            return False
        if attempt.partition is not None and attempt.partition != entry.asked.get("partition"):
            return False
    if attempt.abandoned or attempt.error_type == CANCELLED:
        # cut off by a stop: the server may have answered before the cancel (the answer
        # was never read), after it, or never; only the time and the prompt are known
        return True
    if not attempt.ok and attempt.error_type in GAVE_UP:
        # the client stopped waiting: the server answered later, or not at all
        return entry.answered is None or entry.answered >= attempt.end - TOLERANCE_S
    if entry.served:
        return (
            attempt.ok
            and attempt.response_model == entry.response_model
            and attempt.input_tokens == entry.usage.get("input_tokens")
            and attempt.output_tokens == entry.usage.get("output_tokens")
        )
    expected = _ERROR_OF_OUTCOME.get(entry.outcome) or (str(entry.status) if entry.status else None)
    return not attempt.ok and attempt.error_type == expected


@dataclass
class Match:
    ledger: Ledger
    pairs: list[tuple[Entry, Attempt]] = field(default_factory=list)
    unmatched_entries: list[Entry] = field(default_factory=list)
    unmatched_attempts: list[Attempt] = field(default_factory=list)
    candidates: list[Attempt] = field(default_factory=list)  # the attempts to this server

    def attempt_of(self, entry: Entry) -> Attempt | None:
        return self._by_seq.get(entry.seq)

    def __post_init__(self) -> None:
        self._by_seq: dict[int, Attempt] = {}

    def index(self) -> None:
        self._by_seq = {e.seq: a for e, a in self.pairs}


def match(ledger: Ledger, attempts: list[Attempt]) -> Match:
    entries = [e for e in ledger.entries if e.path.endswith("/chat/completions")]
    name = ledger.config.get("name")
    mine = [
        a for a in attempts
        if a.port == ledger.port or (a.port is None and name and a.provider == name)
    ]  # fmt: skip
    options: list[list[int]] = [
        [j for j, a in enumerate(mine) if compatible(e, a)] for e in entries
    ]
    owner: dict[int, int] = {}  # attempt index -> entry index
    # an answer and the span that reports its response id belong together: paired first, so
    # an attempt that could be anything (cancelled by a stop) never takes an identified answer
    by_response = {a.response_id: j for j, a in enumerate(mine) if a.response_id}
    for i, entry in enumerate(entries):
        j = by_response.get(entry.response_id) if entry.response_id else None
        if j is not None and j in options[i] and j not in owner:
            owner[j] = i
    taken = set(owner)  # never handed on by an augmenting path
    paired = set(owner.values())
    options = [o if i in paired else [j for j in o if j not in taken]
               for i, o in enumerate(options)]  # fmt: skip

    def augment(i: int, seen: set[int]) -> bool:
        for j in options[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or augment(owner[j], seen):
                owner[j] = i
                return True
        return False

    for i in sorted(range(len(entries)), key=lambda k: len(options[k])):
        if i not in paired:
            augment(i, set(taken))
    result = Match(ledger, candidates=mine)
    matched_entries = set(owner.values())
    result.pairs = sorted(((entries[i], mine[j]) for j, i in owner.items()), key=lambda p: p[0].seq)
    result.unmatched_entries = [e for i, e in enumerate(entries) if i not in matched_entries]
    result.unmatched_attempts = [a for j, a in enumerate(mine) if j not in owner]
    result.index()
    return result
