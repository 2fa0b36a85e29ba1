"""Turn an LLM's list answer into candidate lines (the parser contract's code side).

docs/tracing.md, "Real output: which lines are items", is the contract; the
tester's fake model labels its lines by it. Real models wrap their lists in
noise, so each line of an answer goes through these rules, in order:

1. **Unicode clean-up**: control characters (Cc; a tab counts as a space, a
   terminal escape sequence such as ``ESC[31m`` goes whole),
   format characters (Cf: zero-width spaces and joiners, BOM, bidi marks)
   and lone surrogates are removed; every script is kept as it is.
2. **Dropped lines**: empty; a code fence (```` ``` ````, ``~~~``); longer
   than ``MAX_LINE`` characters; a markdown heading (``#`` to ``######`` and
   a space); a line ending with ``:`` (a preamble or section title, also
   inside ``**bold**``); chat commentary openers ("Here are/is", "Below
   are/is", "Sure", "Certainly", "Of course", "Absolutely", "Okay"/"OK" with
   punctuation or alone, "I hope this/that/these/it", "Let me know if",
   "Feel free to", "Note:"), on the line as written or once cleaned; an echo
   of the prompt (its key starts with the key of an instruction line of
   ``system.producer.prompt``, or equals the key of the topic or of the
   partition label, or its description after ``:`` / a spaced dash is the
   topic or the label); a letter-range line (``A-B``, ``A – C``, ``A to C``
   at the start); a line with no letter in any script; a sentence (10 words
   or more, or 6 or more ending with ``.``, ``!`` or ``?``).
3. **Markdown tables**: a separator row (``|---|:--:|``) and the header row
   right above it are dropped; every other row gives each non-empty cell as
   a line of its own, parsed by these same rules.
4. **Remarks**: a trailing parenthetical remark ``X (remark)`` and a
   description after a colon or a spaced dash (``X: d``, ``X - d``,
   ``X – d``, ``X — d``; outside parentheses) are removed; X is the
   candidate. ``Notre-Dame`` and ``10:30`` stay whole.
5. **Several items on one line**: ``A, B, C``, ``A; B; C``, ``A, B and C``
   (`` and ``, `` & ``, `` or `` only before the last part, and only in a
   list that also has a comma or a semicolon) is split into its parts when
   every part, its own remark removed, is 1 to 5 words starting with an
   uppercase letter, a digit or a letter of a script without case.
6. Each candidate is cleaned with ``clean_display`` (list markers, quotes,
   bold, trailing punctuation), checked again against the drop rules of 2
   (a remark or a split can leave an echo, a letter range or no letter), and
   kept in order when something is left.

The prompt context (``PromptContext``: topic and partition label) is what
echo detection compares with; without it only the instruction lines count as
echoes.

Models repeat the same lines answer after answer, so the verdict on each
distinct line is memoized (bounded LRU) per prompt context: a repeated line
costs a dict lookup, not a clean (this is most of a zero-latency producer's
CPU otherwise). A numbered line (``12. Name``) is looked up by what follows
its number, so the same item under different numbers is one entry; the
verdict is the same, because cleaning removes that number first and no drop
rule reads it (a line too long as written goes the slow way, which measures
it exactly). A table row is the only rule that looks at the next line.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from system.dedup.normalize import clean_display, normalize

__all__ = ["MAX_LINE", "PromptContext", "clean_unicode", "is_commentary", "parse_response"]

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
_HEADING = re.compile(r"^(?:\*\*|__)?#{1,6}\s")
#: the keys of the prompt's instruction lines (system.producer.prompt), as prefixes
_INSTRUCTION = re.compile(
    r"""^(?:
        you\ are\ enumerating
      | you\ are\ dividing\ a\ topic
      | topic(?=$|[^\w])
      | focus\ on\ this\ part\ of\ the\ topic
      | list\ \d+\ distinct\ items
      | do\ not\ repeat\ any\ of\ these
      | propose\ \d+\ short
      | these\ sub-topics\ are\ already\ taken
    )""",
    re.VERBOSE,
)
#: a range of letters at the start: A-B, A – C, A to C (the partition labels' shape)
_LETTER_RANGE = re.compile(r"^[A-Za-z]\s*(?:-|–|—|\bto\b)\s*[A-Za-z](?![^\W\d_])")
_TABLE_SEPARATOR = re.compile(r"^\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
#: a description after a colon or a spaced dash (searched outside parentheses)
_DESCRIPTION = re.compile(r":\s|\s[-–—]{1,2}\s")
_TRAILING_REMARK = re.compile(r"\s*\([^()]*\)\s*$")
_SPLIT = re.compile(r"\s*[,;]\s+")
_LAST_JOIN = re.compile(r"\s+(?:and|&|or)\s+")
_SENTENCE_END = ".!?"
_ASCII_CONTROLS = dict.fromkeys([*range(0x20), 0x7F], None) | {0x09: " "}
_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: a terminal escape sequence (CSI, e.g. colours): it goes whole, not just its ESC
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})


@dataclass(frozen=True, slots=True)
class PromptContext:
    """What the answer was asked for: what an echo of the prompt looks like."""

    topic: str = ""
    partition: str | None = None

    def echo_keys(self) -> tuple[str, ...]:
        keys = (normalize(self.topic), normalize(self.partition or ""))
        return tuple(key for key in keys if key)


def clean_unicode(text: str) -> str:
    """``text`` without control (Cc; a tab becomes a space, a terminal escape
    sequence goes whole) and format (Cf) characters nor lone surrogates."""
    if "\x1b" in text:
        text = _ANSI_ESCAPE.sub("", text)
    if text.isascii():
        if _ASCII_CONTROL.search(text) is None:
            return text
        return text.translate(_ASCII_CONTROLS)
    return "".join(
        " " if ch == "\t" else ch
        for ch in text
        if unicodedata.category(ch) not in _DROPPED_CATEGORIES or ch == "\t"
    )


def is_commentary(line: str) -> bool:
    """Whether a stripped line is chat commentary rather than an item."""
    if line.rstrip(_CLOSERS).endswith((":", "：")):
        return True
    return _COMMENTARY.match(line) is not None


def parse_response(
    text: str, limit: int | None = None, context: PromptContext | None = None
) -> list[str]:
    """The candidate items in an LLM answer, cleaned, in order, at most ``limit``."""
    candidates: list[str] = []
    if limit is not None and limit <= 0:
        return candidates
    echo = context.echo_keys() if context is not None else ()
    lines = text.splitlines()
    for index, raw in enumerate(lines):
        if raw.lstrip().startswith("|"):
            following = lines[index + 1] if index + 1 < len(lines) else ""
            items = _parse_table_row(raw, following, echo)
        else:
            numbered = _NUMBERED.match(raw)
            if numbered is None or len(raw.strip()) > MAX_LINE:
                items = _parse_line(raw, echo)
            else:
                items = _parse_line(raw[numbered.end() :], echo)
        for item in items:
            candidates.append(item)
            if limit is not None and len(candidates) >= limit:
                return candidates
    return candidates


def _parse_table_row(raw: str, following: str, echo: tuple[str, ...]) -> tuple[str, ...]:
    line = clean_unicode(raw).strip()
    if _TABLE_SEPARATOR.match(line) or _TABLE_SEPARATOR.match(clean_unicode(following).strip()):
        return ()
    if line.count("|") < 2:  # a lone bar: not a row
        return _parse_line(raw, echo)
    items: list[str] = []
    for cell in line.strip("|").split("|"):
        items.extend(_parse_line(cell, echo))
    return tuple(items)


@lru_cache(maxsize=LINE_MEMO_SIZE)
def _parse_line(raw: str, echo: tuple[str, ...]) -> tuple[str, ...]:
    """The candidate items on one raw line (rules 1-6), possibly none."""
    line = clean_unicode(raw).strip()
    if not line or len(line) > MAX_LINE:
        return ()
    numbered = _NUMBERED.match(line)
    while numbered is not None:  # every number goes, as the fast path in parse_response does
        line = line[numbered.end() :]
        numbered = _NUMBERED.match(line)
    if _FENCE.match(line) or _dropped(line, echo, whole_line=True):
        return ()
    item = _without_remark(clean_display(line))
    parts = _split(item)
    if parts is None:
        parts = [item]
    out = []
    for part in parts:
        cleaned = clean_display(part)
        if cleaned and not _dropped(cleaned, echo, whole_line=False):
            out.append(cleaned)
    return tuple(out)


def _dropped(line: str, echo: tuple[str, ...], *, whole_line: bool) -> bool:
    """Rule 2 on a stripped line (``whole_line``) or on a cleaned candidate."""
    if whole_line and (_HEADING.match(line) or is_commentary(line)):
        return True
    bare = clean_display(line)
    if not bare or _COMMENTARY.match(bare):
        return True
    key = normalize(bare)
    if _INSTRUCTION.match(key) or key in echo:
        return True
    if echo and whole_line:
        description = _description_of(bare)
        if description is not None and normalize(description) in echo:
            return True
    if _LETTER_RANGE.match(bare):
        return True
    if not any(ch.isalpha() for ch in bare):
        return True
    words = len(bare.split())
    if words >= 10:
        return True
    return words >= 6 and line.rstrip(_CLOSERS).endswith(tuple(_SENTENCE_END))


def _description_cut(text: str) -> int | None:
    """Where a description starts (the index of its separator), outside parentheses."""
    depth = 0
    for index, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif depth == 0 and ch in ":-–—" and index > 0:
            match = _DESCRIPTION.match(text, index - (ch != ":"))
            if match is not None:
                return match.start()
    return None


def _description_of(text: str) -> str | None:
    cut = _description_cut(text)
    if cut is None:
        return None
    return text[cut:].lstrip(" :-–—")


def _without_remark(text: str) -> str:
    """Rule 4: ``X (remark)``, ``X: d``, ``X - d`` -> ``X`` (unless X would be empty)."""
    cut = _description_cut(text)
    if cut is not None and text[:cut].strip():
        text = clean_display(text[:cut])
    while True:
        stripped = _TRAILING_REMARK.sub("", text)
        if stripped == text or not stripped.strip():
            return text
        text = clean_display(stripped)


def _split(text: str) -> list[str] | None:
    """Rule 5: the parts of a list line, or None when it stays whole."""
    parts = _SPLIT.split(text)
    if len(parts) < 2:
        return None
    last = _LAST_JOIN.split(parts[-1])
    if len(last) > 2:
        return None
    parts[-1:] = last
    cleaned = []
    for part in parts:
        item = _without_remark(clean_display(part))
        if not item or not 1 <= len(item.split()) <= 5 or not _starts_like_a_name(item[0]):
            return None
        cleaned.append(item)
    return cleaned


def _starts_like_a_name(ch: str) -> bool:
    return ch.isupper() or ch.isdigit() or (ch.isalpha() and not ch.islower())
