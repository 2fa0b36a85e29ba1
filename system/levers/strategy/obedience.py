"""How well an answer obeyed its prompt: echoes and out-of-partition items.

A small model often copies its prompt into the answer (the instruction
lines, the partition label, the avoid list) or ignores the partition it was
asked for. The system cannot tell a valid item from a hallucination, but it
can see these two failures, so the producer counts them on every answer and
sends them with the batch (``AttributeBatch.lines``, ``echoes``,
``off_partition``). The adaptive strategy discounts an arm's new items by
them and drops an arm that a provider obeys badly
(``system.levers.strategy.selector``).

* **echo**: a non-empty answer line whose key starts with the key of one of
  the prompt's instruction lines (the intro, ``Topic:``, the focus line, the
  request line, the avoid header) or begins one (12 characters or more: an
  instruction cut short), or equals the key of the topic, of the
  partition label or of an avoided item (the model copying its avoid list);
* **off-partition**: a parsed candidate that does not fit the partition the
  prompt named (``system.levers.partitions.match``), counted only when a partition was named.

Counted on the raw answer, before the parser drops echo lines, so the rate
is the model's and does not depend on the parser's rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from system.dedup.normalize import normalize
from system.levers.partitions.match import partition_matcher

__all__ = ["Obedience", "measure"]

#: prompt lines shorter than this (in key characters) are not echo prefixes ("- a")
MIN_ECHO_KEY = 4
#: an answer line this long (key characters) that begins an instruction line is an echo
MIN_PARTIAL_ECHO = 12


@dataclass(frozen=True)
class Obedience:
    lines: int  # non-empty lines of the answer
    echoes: int  # lines that repeat the prompt (instructions, label, avoid list)
    off_partition: int  # candidates outside the named partition (0 without one)


def _key(text: str) -> str:
    return normalize(text)


def measure(
    answer: str,
    prompt: str,
    candidates: Sequence[str],
    *,
    topic: str,
    partition: str | None = None,
) -> Obedience:
    """Count the answer's echoes of ``prompt`` and its candidates outside ``partition``."""
    instructions: set[str] = set()
    exact = {k for k in (_key(topic), _key(partition or "")) if k}
    for line in prompt.splitlines():
        key = _key(line)
        if line.startswith("- "):
            exact.add(key)  # an avoided item (or a taken sub-topic): repeated as is
        elif len(key) >= MIN_ECHO_KEY:
            instructions.add(key)
    lines = echoes = 0
    for raw in answer.splitlines():
        if not raw.strip():
            continue
        lines += 1
        key = _key(raw)
        if not key:
            continue
        if key in exact or any(
            key.startswith(p) or (len(key) >= MIN_PARTIAL_ECHO and p.startswith(key))
            for p in instructions
        ):
            echoes += 1
    off = 0
    if partition and partition.strip():
        fits = partition_matcher(partition)
        off = sum(1 for c in candidates if not fits(c))
    return Obedience(lines, echoes, off)
