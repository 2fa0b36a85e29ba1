"""The fake server's ledger: everything it was asked and everything it answered.

The tester owns this model, so the ledger is the truth the oracle
(``tester.oracle``) judges the system against: not the system's own spans or
counters. One ``Entry`` per HTTP request to the chat route, in arrival order:

* the request: arrival time on the server's clock (``time.time()``, the same
  wall clock the spans use on this machine), the headers that matter (keys
  and tokens replaced by ``<redacted>``: the ledger goes into the artifacts),
  the requested model, the sampling parameters, the prompt and what the
  prompt asked for (topic, count, partition, avoid list);
* the answer: time, HTTP status and the plan step (``ok``, ``429``, ``down``,
  ``garbage``...), the ``Retry-After`` given, usage, the response model;
* for every line of an ``ok`` answer its ground truth under the parser
  contract of docs/tracing.md: ``item`` (with the canonical identity and the
  display form the contract gives, one per item on the line) or ``noise``
  (with its kind).

The in-process server (``LocalFakeLLM``) hands its ``Ledger`` object to the
tester; the subprocess one serves it at ``GET /control/ledger``; either is
dumped to JSON next to the traces so ``--replay`` re-checks from it.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REDACTED = "<redacted>"
#: request headers worth keeping (lower case); secrets among them are redacted
KEPT_HEADERS = (
    "authorization", "api-key", "x-api-key", "user-agent", "content-type",
    "x-stainless-retry-count", "x-stainless-timeout", "traceparent", "openai-organization",
)  # fmt: skip
SECRET_HEADERS = frozenset({"authorization", "api-key", "x-api-key", "openai-organization"})
SAMPLING_KEYS = (
    "temperature", "top_p", "max_tokens", "max_completion_tokens", "seed", "n",
    "presence_penalty", "frequency_penalty", "stop", "top_k", "min_p", "repeat_penalty",
)  # fmt: skip


def redact_headers(headers: Any) -> dict[str, str]:
    kept: dict[str, str] = {}
    for name in KEPT_HEADERS:
        value = headers.get(name)
        if value is None:
            continue
        kept[name] = REDACTED if name in SECRET_HEADERS else str(value)
    return kept


@dataclass
class Candidate:
    """One item the contract says a line yields: its identity and display form."""

    id: str  # the canonical name of the item (its identity)
    display: str  # what the contract's parser makes of it (steps 1-4)


@dataclass
class Line:
    text: str
    label: str  # "item" or "noise"
    kind: str  # the behaviour that made the line (plain, bold, remark, preamble, echo...)
    items: list[Candidate] = field(default_factory=list)


@dataclass
class Entry:
    seq: int
    arrival: float  # time.time() when the request was read
    client: str  # peer host:port
    path: str
    headers: dict[str, str]
    requested_model: str | None = None
    sampling: dict[str, Any] = field(default_factory=dict)
    prompt: str = ""
    asked: dict[str, Any] = field(default_factory=dict)  # topic, count, partition, avoid
    answered: float | None = None
    status: int | None = None  # HTTP status; None when the connection was dropped
    outcome: str = ""  # the plan step's kind: ok, 429, down, hang, garbage, truncated, empty
    retry_after: float | None = None
    response_model: str | None = None
    response_id: str | None = None
    usage: dict[str, int] = field(default_factory=dict)
    finish_reason: str | None = None
    lines: list[Line] = field(default_factory=list)

    @property
    def served(self) -> bool:
        """The client got a usable answer (its items are the model's word)."""
        return self.outcome == "ok" and self.status == 200

    def candidates(self) -> list[Candidate]:
        return [c for line in self.lines for c in line.items]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Entry:
        lines = [
            Line(
                text=str(line["text"]),
                label=str(line["label"]),
                kind=str(line["kind"]),
                items=[Candidate(str(c["id"]), str(c["display"])) for c in line.get("items", [])],
            )
            for line in data.get("lines", [])
        ]
        fields = {k: v for k, v in data.items() if k != "lines"}
        return cls(**fields, lines=lines)


class Ledger:
    """Thread-safe list of entries; ``server`` names the fake server (its port)."""

    def __init__(self, server: str = "", model: str = "", port: int = 0) -> None:
        self.server = server
        self.model = model
        self.port = port
        self.config: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._entries: list[Entry] = []

    def open(self, entry_fields: dict[str, Any]) -> Entry:
        with self._lock:
            entry = Entry(seq=len(self._entries), **entry_fields)
            self._entries.append(entry)
            return entry

    @property
    def entries(self) -> list[Entry]:
        with self._lock:
            return list(self._entries)

    def to_dict(self) -> dict[str, Any]:
        return {
            "server": self.server,
            "model": self.model,
            "port": self.port,
            "config": self.config,
            "entries": [asdict(e) for e in self.entries],
        }

    def dump(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict()), encoding="utf-8")
        return path

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Ledger:
        ledger = cls(str(data.get("server", "")), str(data.get("model", "")), int(data["port"]))
        ledger.config = dict(data.get("config") or {})
        ledger._entries = [Entry.from_dict(e) for e in data.get("entries", [])]
        return ledger

    @classmethod
    def load(cls, path: Path) -> Ledger:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
