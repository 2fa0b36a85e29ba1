"""Turn an LLM's list answer into candidate lines.

A line is dropped when it is empty, a markdown code fence (```` ``` ````
or ``~~~``), longer than ``MAX_LINE`` characters (prose, not an item), ends
with ``:`` (a preamble or a section heading, also inside ``**bold**``), or
opens like chat commentary: "Here are/is", "Below are/is", "Sure",
"Certainly", "Of course", "Absolutely", "Okay"/"OK" followed by punctuation
or the end of the line, "I hope this/that/these/it", "Let me know if",
"Feel free to", "Note:". The openings are matched on the line as written
and on its cleaned form (so ``**Sure!**`` and ``1. Here are...`` count too).
Every other line is cleaned with ``clean_display`` (list markers, quotes,
bold, trailing punctuation) and kept in order when something is left.
"""

from __future__ import annotations

import re

from system.dedup.normalize import clean_display

__all__ = ["MAX_LINE", "is_commentary", "parse_response"]

MAX_LINE = 200
_FENCE = re.compile(r"^(?:```|~~~)")
_COMMENTARY = re.compile(
    r"""^(?:
        here\s+(?:are|is)\b
      | below\s+(?:are|is)\b
      | (?:sure|certainly|of\s+course|absolutely|okay|ok)(?:\s*[,.!:;]|\s*$)
      | i\s+hope\s+(?:this|that|these|it)\b
      | let\s+me\s+know\s+if\b
      | feel\s+free\s+to\b
      | note\s*:
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_CLOSERS = "*_`\"'”’» \t"


def is_commentary(line: str) -> bool:
    """Whether a stripped line is chat commentary rather than an item."""
    if line.rstrip(_CLOSERS).endswith((":", "：")):
        return True
    return _COMMENTARY.match(line) is not None


def parse_response(text: str, limit: int | None = None) -> list[str]:
    """The candidate items in an LLM answer, cleaned, in order, at most ``limit``."""
    candidates: list[str] = []
    if limit is not None and limit <= 0:
        return candidates
    for raw in text.splitlines():
        line = raw.strip()
        if not line or len(line) > MAX_LINE or _FENCE.match(line) or is_commentary(line):
            continue
        cleaned = clean_display(line)
        if not cleaned or _COMMENTARY.match(cleaned):
            continue
        candidates.append(cleaned)
        if limit is not None and len(candidates) >= limit:
            break
    return candidates
