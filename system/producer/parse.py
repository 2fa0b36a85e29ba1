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

Models repeat the same lines answer after answer, so the verdict on each
distinct line is memoized (bounded LRU): a repeated line costs a dict lookup,
not a clean (this is most of a zero-latency producer's CPU otherwise). A
numbered line (``12. Name``) is looked up by what follows its number, so the
same item under different numbers is one entry; the verdict is the same,
because cleaning removes that number first and commentary never starts with
a digit.
"""

from __future__ import annotations

import re
from functools import lru_cache

from system.dedup.normalize import clean_display

__all__ = ["MAX_LINE", "is_commentary", "parse_response"]

MAX_LINE = 200
#: distinct raw lines whose verdict is remembered
LINE_MEMO_SIZE = 20_000
_FENCE = re.compile(r"^(?:```|~~~)")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+(?=\S)")
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
        numbered = _NUMBERED.match(raw)
        if numbered is None:
            cleaned = _parse_line(raw)
        elif len(raw.strip()) > MAX_LINE:
            continue
        else:
            cleaned = _parse_numbered(raw[numbered.end() :])
        if cleaned is None:
            continue
        candidates.append(cleaned)
        if limit is not None and len(candidates) >= limit:
            break
    return candidates


@lru_cache(maxsize=LINE_MEMO_SIZE)
def _parse_line(raw: str) -> str | None:
    """The cleaned item on one raw line, or None when the line is not an item."""
    line = raw.strip()
    if not line or len(line) > MAX_LINE or _FENCE.match(line) or is_commentary(line):
        return None
    return _kept(clean_display(line))


@lru_cache(maxsize=LINE_MEMO_SIZE)
def _parse_numbered(rest: str) -> str | None:
    """``_parse_line`` of a numbered line, given what follows its number.

    The whole line starts with a digit, so it is never a fence nor opening
    commentary; it is a preamble when it ends with a colon, as ``rest`` does.
    """
    if rest.rstrip(_CLOSERS).endswith((":", "：")):
        return None
    return _kept(clean_display(rest))


def _kept(cleaned: str) -> str | None:
    return cleaned if cleaned and not _COMMENTARY.match(cleaned) else None
