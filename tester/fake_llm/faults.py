"""Fault plans: what the fake server does with each request, in order.

A plan is a list of steps written ``KIND[*COUNT][:SECONDSs]`` and joined by
commas, e.g. ``ok*5,429*3,500*4,down:4s,ok``. Each step applies to its next
COUNT requests or, with ``:SECONDS``, to every request for that long from
the first request it meets; a step with neither lasts for ever. When the plan
is used up every request is answered normally.

Kinds: ``ok``; an HTTP status such as ``429`` (with ``Retry-After``),
``500`` or ``503``; ``down`` (the connection is closed without an answer, as
a dead server's would be); ``slow`` (answer after ``slow_ms``); ``hang`` (no
answer for ``hang_s``: the client times out); ``garbage`` (a body that is not
JSON); ``truncated`` (JSON cut in the middle); ``empty`` (no choices).
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass

KINDS = frozenset({"ok", "down", "slow", "hang", "garbage", "truncated", "empty"})
_STEP = re.compile(r"^(?P<kind>[a-z]+|\d{3})(?:\*(?P<count>\d+))?(?::(?P<seconds>[\d.]+)s?)?$")


class PlanError(ValueError):
    pass


@dataclass
class Step:
    kind: str  # one of KINDS or a 3-digit HTTP status
    count: int | None = None
    seconds: float | None = None

    @property
    def status(self) -> int | None:
        return int(self.kind) if self.kind.isdigit() else None

    def text(self) -> str:
        out = self.kind
        if self.count is not None:
            out += f"*{self.count}"
        if self.seconds is not None:
            out += f":{self.seconds:g}s"
        return out


def parse_plan(text: str) -> list[Step]:
    steps = []
    for raw in (part.strip() for part in text.split(",")):
        if not raw:
            continue
        match = _STEP.match(raw)
        if match is None:
            raise PlanError(f"bad plan step {raw!r}: expected KIND[*COUNT][:SECONDSs]")
        kind = match.group("kind")
        if not kind.isdigit() and kind not in KINDS:
            raise PlanError(f"unknown fault kind {kind!r}; kinds: {', '.join(sorted(KINDS))}")
        if kind.isdigit() and not 400 <= int(kind) <= 599:
            raise PlanError(f"status {kind} is not an HTTP error status")
        count = int(match.group("count")) if match.group("count") else None
        seconds = float(match.group("seconds")) if match.group("seconds") else None
        steps.append(Step(kind, count, seconds))
    return steps


class FaultPlan:
    """The current plan; ``next_step`` is called once per request (thread-safe)."""

    def __init__(self, steps: list[Step] | None = None) -> None:
        self._lock = threading.Lock()
        self._steps: list[Step] = []
        self._used = 0
        self._started: float | None = None
        self.replace(steps or [])

    def replace(self, steps: list[Step]) -> None:
        with self._lock:
            self._steps = list(steps)
            self._used = 0
            self._started = None

    def describe(self) -> str:
        with self._lock:
            return ",".join(step.text() for step in self._steps) or "ok"

    def next_step(self, now: float | None = None) -> Step:
        now = time.monotonic() if now is None else now
        with self._lock:
            while self._steps:
                step = self._steps[0]
                if self._started is None:
                    self._started = now
                expired = step.seconds is not None and now - self._started >= step.seconds
                spent = step.count is not None and self._used >= step.count
                if expired or spent:
                    self._steps.pop(0)
                    self._used = 0
                    self._started = None
                    continue
                self._used += 1
                return step
            return Step("ok")
