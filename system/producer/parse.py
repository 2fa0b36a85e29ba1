"""Turn an LLM's list answer into candidate lines (the parser contract's code side).

docs/tracing.md, "Real output: which lines are items", is the contract; the
tester's fake model labels its lines by it. Real models wrap their lists in
noise, so each line of an answer goes through these rules, in order:

1. **Unicode clean-up**: control characters (Cc; a tab counts as a space, a
   terminal escape sequence such as ``ESC[31m`` goes whole), format
   characters (Cf: zero-width spaces and joiners, BOM, bidi marks) and lone
   surrogates are removed; every script is kept as it is. Leading list
   numbers (``12.``, ``3)``) do not count for the rules below. Leaks go:
   chat-template tokens with a fused role word, HTML tags, URLs, markdown
   links, labels (``D)``, ``#1.``, ``No. 9``) and partition labels inside the
   line (``(A-L)``; with the text before them when a list number follows).
2. **Dropped lines**: empty; a line holding U+FFFD (``UNDECODABLE``: bytes of
   the answer that were not UTF-8); a code fence (```` ``` ````, ``~~~``);
   longer than ``MAX_LIST_LINE``, or than ``MAX_LINE`` and no list; a markdown
   heading (``#`` to ``######`` and a space); a line ending with ``:`` (a
   preamble or section title, also inside ``**bold**``); chat commentary
   openers ("Here are/is", "Below are/is", "Sure", "Certainly", "Of course",
   "Absolutely", "Okay"/"OK" with punctuation or alone, "I hope
   this/that/these/it", "Let me know if", "Feel free to", "Note:",
   "The/This/That list", "I'm", "I have/can/will/would",
   "You've/You're/You'll", "Title:", "Subject:", "30 (distinct|more) items"),
   on the line as written or once cleaned; an echo of the prompt (its key
   starts with the key of an instruction line of ``system.producer.prompt``,
   or equals the key of the topic or of the partition label, or its
   description is the topic or the label; a line *headed* by the topic or the
   label, ``<topic>: A, B``, is replaced by its description instead; the topic
   made singular and the instruction's phrases count too; a chat role word
   alone); a letter-range line (``A-B``, ``A – C``, ``A to C`` at the start);
   no letter in any script, or ASCII letter soup (no two letters in a row:
   ``E``, ``A&B``); a sentence (10 words or more, 7 or more ending with
   ``.!?``, 5 or more with is/are/was/were), judged on the line without its
   trailing parenthetical remarks and never on a line that rule 5 splits.
3. **Markdown tables**: a separator row (``|---|:--:|``) and the header row
   right above it are dropped; every other row gives each non-empty cell as
   a line of its own, parsed by these same rules.
4. **Remarks**: trailing parenthetical remarks ``X (remark)`` (nested ones
   too) and a description after a colon, a spaced dash or a comma followed
   by a lowercase letter (``X: d``, ``X - d``, ``X – d``, ``X — d``,
   ``X, the d``; outside parentheses) are removed; X is the candidate.
   ``Notre-Dame`` and ``10:30`` stay whole. An unclosed parenthesis at the end
   of a line is a remark cut off (``Malaysia (TNDAZA, T``): it goes too.
5. **Several items on one line**: ``A, B, C``, ``A; B; C``, ``A, B and C``
   (`` and ``, `` & ``, `` or `` only before the last part) is split at the
   separators outside parentheses when every part, its own remark removed,
   is 1 to 5 words starting with an uppercase letter, a digit or a letter of
   a script without case. ``A and B`` alone stays one item (``Bosnia and
   Herzegovina``). ``...``/``etc.`` parts are left out; a list of
   ``LONG_LIST_PARTS`` parts or more needs ``LONG_LIST_SHARE`` of them to be
   names (the others are left out). Inline numbering (``1. A  2. B``), a
   bracketed list (``[A, B]``) and columns (``A   B   C``) are cut into pieces,
   each parsed as a line.
6. Each candidate is cleaned with ``clean_display`` (list markers, quotes,
   bold, trailing punctuation), checked again against the drop rules of 2
   (a remark or a split can leave an echo, a letter range, letter soup or a
   sentence), and kept in order when something is left.
7. Per answer: counters after names (``Egypt 4``, ``Kenya 5``...) go when 3
   and half of the candidates have one and the names stay distinct.

The prompt context (``PromptContext``: topic and partition label) is what
echo detection compares with; without it only the instruction lines count as
echoes.

Models repeat the same lines answer after answer, so the verdict on each
distinct line is memoized per prompt context (a dict per context, at most
``LINE_MEMO_SIZE`` lines, emptied when full): a repeated line costs a dict
lookup, not a clean (this is most of a zero-latency producer's CPU
otherwise). A numbered line (``12. Name``) is looked up by what follows its
number, so the same item under different numbers is one entry; the verdict
is the same, because cleaning removes that number first and no drop rule
reads it (a line too long as written goes the slow way, which measures it
exactly). A table row is the only rule that looks at the next line.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from system.dedup.normalize import clean_display, normalize

__all__ = [
    "MAX_LINE",
    "PromptContext",
    "clean_unicode",
    "clear_memo",
    "is_commentary",
    "parse_response",
]

MAX_LINE = 200
#: a longer line is dropped even when it is a list (a runaway answer, not a list)
MAX_LIST_LINE = 4000
#: a list line of this many parts or more keeps its name-shaped parts when at least
#: ``LONG_LIST_SHARE`` of them are names (a short list needs every part to be one)
LONG_LIST_PARTS = 6
LONG_LIST_SHARE = 0.8
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
      | (?:the|this|that)\s+list\b
      | you['’](?:ve|re|ll)\b
      | (?:title|subject)\s*:
      | \d+\s+(?:distinct\s+|more\s+)?items\b
      | i['’]m\b
      | i\s+(?:have|can|will|would)\b
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
      | (?:with\ )?no\ (?:numbering|commentary)\b
      | one\ per\ line\b
      | as\ exhaustively\ as\ possible\b
      | (?:every\ )?distinct\ items?\b
    )""",
    re.VERBOSE,
)
#: a range of letters at the start: A-B, A – C, A to C (the partition labels' shape)
_LETTER_RANGE = re.compile(r"^[A-Za-z]\s*(?:-|–|—|\bto\b)\s*[A-Za-z](?![^\W\d_])")
_TABLE_SEPARATOR = re.compile(r"^\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
#: a description after a colon, a spaced dash or a comma and a lowercase word
_DESCRIPTION = re.compile(r":\s|\s[-–—]{1,2}\s|,\s+(?=[a-zß-ÿ])")
_SPACED_DASH = re.compile(r"\s[-–—]{1,2}\s")
_SPLIT = re.compile(r"\s*[,;]\s+")
_SPLIT_OR_PAREN = re.compile(r"\s*[,;]\s+|[()]")
_LAST_JOIN = re.compile(r"\s+(?:and|&|or)\s+")
_SENTENCE_END = (".", "!", "?")
_ARTICLES = ("the ", "a ", "an ")
_FINITE_VERB = re.compile(r"\b(?:is|are|was|were)\b", re.IGNORECASE)
_LETTER_PAIR = re.compile(r"[A-Za-z]{2}")
_ASCII_CONTROLS = dict.fromkeys([*range(0x20), 0x7F], None) | {0x09: " "}
_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: a terminal escape sequence (CSI, e.g. colours): it goes whole, not just its ESC
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
#: chat-template tokens a server let through, with the role word fused after them
_TEMPLATE = re.compile(
    r"<\|[^|<>\s]{1,30}\|>(?:user|model|assistant|system)?"
    r"|</?(?:start_of_turn|end_of_turn|s|eos|bos)>(?:user|model|assistant|system)?"
    r"|\[/?INST\]",
    re.IGNORECASE,
)
_ROLE_WORDS = frozenset({"user", "model", "assistant", "system"})
_MARKDOWN_LINK = re.compile(r"\[([^\[\]\n]+)\]\([^()\s]*\)")
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
_URL = re.compile(r"\b(?:https?://|www\.)[^\s()<>\[\]]+", re.IGNORECASE)
_EMPTY_PARENS = re.compile(r"\(\s*\)")
#: a label before the item: ``D)``, ``(d)``, ``d.``, ``#3.``, ``No. 9``, ``The No. 9``
_LABEL = re.compile(
    r"^(?:\(?[A-Za-z]\)|[a-z]\.|#\d+[.):]|(?:[Tt]he\s+)?(?:[Nn]o\.|NO\.|[Nn]umber)\s*\d+[.):]?)"
    r"(?:\s+(?=\S)|\s*$)"
)
#: a partition label inside a line: ``(A-L)``, ``(M-Z-A-L-...)``, unclosed at the end too
_RANGE_LABEL = re.compile(r"\(\s*[A-Za-z](?:\s*[-–—]+\s*[A-Za-z](?![A-Za-z]))+[\s.…\-–—]*(?:\)|$)")
#: list numbers inside a line (``1. A  2. B  3. C``)
_INLINE_NUMBER = re.compile(r"(?:(?<=\s)|^)(\d{1,3})[.)]\s+(?=\S)")
_BRACKETED = re.compile(r"^[\[{](.*?)[\]}]?$")
_COLUMNS = re.compile(r"\s{2,}")
_WIDE_GAP = re.compile(r"\S\s{3,}\S")
_DIGITS = frozenset("0123456789")
_TRAILING_NUMBER = re.compile(r"^(.*[^\W\d_])\s+\d{1,3}$")
#: a trailing part that only says the list goes on
_ETC = frozenset({"etc", "and so on", "and more", "and others", "others"})


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


#: what the provider puts for bytes of an answer that were not UTF-8: a line holding it is
#: dropped (its item is unknown), the answer's other lines stand
UNDECODABLE = "\ufffd"


def parse_response(
    text: str, limit: int | None = None, context: PromptContext | None = None
) -> list[str]:
    """The candidate items in an LLM answer, cleaned, in order, at most ``limit``."""
    candidates: list[str] = []
    if limit is not None and limit <= 0:
        return candidates
    echo = _echo_keys(context.topic, context.partition) if context is not None else ()
    memo = _memo_for(echo)
    lines = text.splitlines()
    for index, raw in enumerate(lines):
        items: tuple[str, ...] | None
        if UNDECODABLE in raw:
            continue  # bytes that were not UTF-8: the item is unknown, the others stand
        if "|" in raw and raw.lstrip().startswith("|"):
            following = lines[index + 1] if index + 1 < len(lines) else ""
            items = _parse_table_row(raw, following, echo)
        else:
            numbered = _NUMBERED.match(raw)
            if numbered is not None and len(raw) <= MAX_LINE:
                raw = raw[numbered.end() :]  # the same item under any number: one entry
            items = memo.get(raw)
            if items is None:
                if len(memo) >= LINE_MEMO_SIZE:
                    memo.clear()
                items = memo[raw] = _parse_line(raw, echo)
        if items:
            candidates.extend(items)
            if limit is not None and len(candidates) >= limit:
                return _without_counters(candidates[:limit])
    return _without_counters(candidates)


def _without_counters(candidates: list[str]) -> list[str]:
    """``Egypt 4``, ``Kenya 5``, ``Ghana 6``: when at least 3 and half of an answer's
    candidates end with a number of 1-3 digits, and the names without it are all
    different, the number is a counter the model appended, not part of the name."""
    if len(candidates) < 3:
        return candidates
    digits = 0
    for candidate in candidates:  # the common case: (almost) no candidate ends with a digit
        digits += candidate[-1] in _DIGITS
    if digits < 3 or 2 * digits < len(candidates):
        return candidates
    names = [_TRAILING_NUMBER.match(c) for c in candidates]
    counted = [m.group(1) for m in names if m is not None]
    if len(counted) < 3 or 2 * len(counted) < len(candidates):
        return candidates
    if len({normalize(n) for n in counted}) < len(counted):
        return candidates  # "Apollo 11", "Apollo 12": the number is the name
    return [c if m is None else m.group(1) for c, m in zip(candidates, names, strict=True)]


#: per prompt context (its echo keys), raw line -> candidates; a handful of contexts are live
_MEMOS: dict[tuple[str, ...], dict[str, tuple[str, ...]]] = {}
_MAX_CONTEXTS = 16


def _memo_for(echo: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    memo = _MEMOS.get(echo)
    if memo is None:
        if len(_MEMOS) >= _MAX_CONTEXTS:
            _MEMOS.clear()
        memo = _MEMOS[echo] = {}
    return memo


def clear_memo() -> None:
    """Forget every remembered line (benchmarks measure the cold cost with it)."""
    _MEMOS.clear()


@lru_cache(maxsize=64)
def _echo_keys(topic: str, partition: str | None) -> tuple[str, ...]:
    keys = PromptContext(topic, partition).echo_keys()
    return keys + tuple(dict.fromkeys(k for k in map(_singular, keys) if k not in keys))


@lru_cache(maxsize=8192)
def _singular(key: str) -> str:
    """Each word of ``key`` without an English plural ending (``countries of africa`` ->
    ``country of africa``): paraphrased echoes of the topic."""
    if "s" not in key:
        return key
    words = []
    for word in key.split(" "):
        if len(word) > 4 and word.endswith("ies"):
            word = word[:-3] + "y"
        elif len(word) > 4 and word.endswith(("ches", "shes", "xes", "sses")):
            word = word[:-2]
        elif len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        words.append(word)
    return " ".join(words)


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


def _parse_line(raw: str, echo: tuple[str, ...]) -> tuple[str, ...]:
    """The candidate items on one raw line (rules 1-6), possibly none."""
    line = clean_unicode(raw).strip()
    if not line or len(line) > MAX_LIST_LINE:
        return ()
    line = _without_leaks(line)
    if not line:
        return ()
    pieces = _pieces(line)
    if pieces is not None:  # inline numbering, a bracketed list, columns: a line each
        return tuple(item for piece in pieces for item in _parse_line(piece, echo))
    if _FENCE.match(line) or _HEADING.match(line) or is_commentary(line):
        return ()
    bare = clean_display(line)
    opened = bare.rfind("(")
    if opened > 0 and opened > bare.rfind(")"):  # "Malaysia (TNDAZA, T": a remark cut off
        bare = clean_display(bare[:opened]) or bare
    if not bare or _dropped_text(bare, echo):
        return ()
    cut = _description_cut(bare)
    if cut is not None and echo:
        description = clean_display(bare[cut:].lstrip(" :-–—,"))
        if _key(description) in echo:
            return ()  # "Title: <topic>"
        headed = bare[cut] != ","  # "<topic>: A, B" or "<topic> - A, B", not "<topic>, as..."
        if headed and _key(clean_display(bare[:cut])) in echo:  # the description is the list
            bare = description
            cut = _description_cut(bare)
    whole = _without_trailing_remarks(bare) if bare.endswith(")") else bare
    parts = _split(whole)  # a list line is no sentence, however many words it has
    if parts is None and len(line) > MAX_LINE:
        return ()  # a long line that is no list: prose
    if parts is None:
        if _is_sentence(
            whole, ended=line.rstrip(_CLOSERS).endswith(_SENTENCE_END)
        ) and not _named_before_a_dash(bare, cut):
            return ()
        if cut is None and whole is bare:  # the common case: one plain item
            return () if _no_name(bare) else (bare,)
        item = _without_remark(bare, cut)
        parts = _split(item) or [item]
    out = []
    for part in parts:
        cleaned = clean_display(part)
        if (
            cleaned
            and not _dropped_text(cleaned, echo)
            and not _no_name(cleaned)
            and not _is_sentence(cleaned, ended=False)
        ):
            out.append(cleaned)
    return tuple(out)


def _without_leaks(line: str) -> str:
    """Rule 1's leaks: chat-template tokens, HTML tags, URLs, labels before the item
    (list numbers, ``D)``, ``#3.``, ``No. 9``) and partition labels inside the line."""
    if "<" in line or "[" in line:
        line = _TEMPLATE.sub(" ", line)
        line = _MARKDOWN_LINK.sub(r"\1", line)
        line = _HTML_TAG.sub(" ", line)
    if "://" in line or "www." in line or "WWW." in line:
        line = _URL.sub(" ", line)
    if "(" in line:
        line = _EMPTY_PARENS.sub(" ", line)
        label = _RANGE_LABEL.search(line)
        while label is not None:
            after = line[label.end() :]
            numbered = _NUMBERED.match(after)
            # "Asia (A-L) 17. Japan": the label heads the numbered item, what precedes goes
            line = after[numbered.end() :] if numbered else f"{line[: label.start()]} {after}"
            label = _RANGE_LABEL.search(line)
    line = line.strip()
    while True:
        label = _NUMBERED.match(line) or _LABEL.match(line)
        if label is None:
            return line
        line = line[label.end() :]  # every number goes, as the fast path in parse_response does


def _pieces(line: str) -> list[str] | None:
    """Rule 5's list shapes other than separators: the pieces of a line with inline
    numbering (``1. A  2. B``), a bracketed list (``[A, B, C]``) or columns (``A   B   C``)."""
    numbers = list(_INLINE_NUMBER.finditer(line)) if ". " in line or ") " in line else []
    if len(numbers) >= 2 and all(
        int(b.group(1)) == int(a.group(1)) + 1 for a, b in itertools.pairwise(numbers)
    ):
        head = line[: numbers[0].start()]
        ends = [m.start() for m in numbers[1:]] + [len(line)]
        pieces = [line[m.end() : end] for m, end in zip(numbers, ends, strict=True)]
        return [head, *pieces] if head.strip() else pieces
    if line[0] in "[{" and ("," in line or ";" in line):
        bracketed = _BRACKETED.match(line)
        if bracketed is not None:
            return [bracketed.group(1)]
    if "  " in line:
        columns = _COLUMNS.split(line)
        if (len(columns) >= 3 or _WIDE_GAP.search(line)) and all(
            _is_name(_without_remark(clean_display(c))) for c in columns
        ):
            return columns
    return None


def _dropped_text(text: str, echo: tuple[str, ...]) -> bool:
    """Rule 2 on cleaned text: commentary, a letter range, an echo of the prompt (also
    in the singular: "Country of Africa"), a chat role word alone."""
    if _COMMENTARY.match(text) or _LETTER_RANGE.match(text):
        return True
    key = _key(text)
    if not key or _INSTRUCTION.match(key) is not None or key in _ROLE_WORDS:
        return True
    return key in echo or (bool(echo) and _singular(key) in echo)


def _no_name(text: str) -> bool:
    """No letter in any script, or letter soup ("E", "A&B", "C,E,D-Z,Y-W")."""
    if text.isascii():
        return _LETTER_PAIR.search(text) is None
    return not any(ch.isalpha() for ch in text)


def _key(text: str) -> str:
    """``normalize(text)`` for cleaned text, without its Unicode work for plain ASCII
    (NFKC changes no ASCII; casefold is lower; cleaning is case-blind)."""
    if text.isascii():
        lowered = text.lower()
        if not lowered.startswith(_ARTICLES):
            return lowered
    return normalize(text)


def _is_sentence(item: str, *, ended: bool) -> bool:
    """10 words or more, 7 or more ``ended`` by ``.!?``, 5 or more with is/are/was/were."""
    words = item.count(" ") + 1  # cleaned text: single spaces
    if words >= 10 or (ended and words >= 7):
        return True
    return words >= 5 and _FINITE_VERB.search(item) is not None


def _named_before_a_dash(text: str, cut: int | None) -> bool:
    """``Name - a long description...``: a short name before a spaced dash is an item,
    however long its description (rule 2's sentences are judged on it, not on the line)."""
    if cut is None or _SPACED_DASH.match(text, cut) is None:
        return False
    name = text[:cut]
    return 1 <= name.count(" ") + 1 <= 5 and _starts_like_a_name(name[0])


def _description_cut(text: str) -> int | None:
    """Where a description starts (the index of its separator), outside parentheses."""
    match = _DESCRIPTION.search(text)
    if match is None:
        return None
    if "(" not in text[: match.start()] and match.start() > 0:
        return match.start()
    depth = 0
    for index, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif depth == 0 and ch in ":-–—," and index > 0:
            match = _DESCRIPTION.match(text, index - (ch in "-–—"))
            if match is not None:
                return match.start()
    return None


def _without_remark(text: str, cut: int | None = -1) -> str:
    """Rule 4: ``X (remark)``, ``X: d``, ``X - d``, ``X, d`` -> ``X`` (unless X would be empty);
    ``cut`` is ``_description_cut(text)`` when the caller has it."""
    if cut == -1:
        cut = _description_cut(text)
    if cut is not None and text[:cut].strip():
        text = clean_display(text[:cut])
    return _without_trailing_remarks(text)


def _without_trailing_remarks(text: str) -> str:
    """``X (a) (b (c))`` -> ``X``: trailing parenthetical remarks, nested ones too."""
    while text.endswith(")"):
        depth = 0
        for index in range(len(text) - 1, -1, -1):
            if text[index] == ")":
                depth += 1
            elif text[index] == "(":
                depth -= 1
                if depth == 0:
                    break
        else:
            return text  # unbalanced: not a remark
        stripped = clean_display(text[:index])
        if not stripped:
            return text
        text = stripped
    return text


def _split(text: str) -> list[str] | None:
    """Rule 5: the parts of a list line, or None when it stays whole."""
    parts = _split_outside_parentheses(text)
    if len(parts) < 2:
        return None
    last = _LAST_JOIN.split(parts[-1])
    if len(last) > 2:
        return None
    parts[-1:] = last
    cleaned = []
    misses = 0
    for part in parts:
        item = _without_remark(clean_display(part))
        if not item or item.lower() in _ETC:
            continue  # "A, B, C, ..." / "A, B, etc.": the list goes on
        if _is_name(item):
            cleaned.append(item)
        else:
            misses += 1
    if misses and (len(parts) < LONG_LIST_PARTS or misses > (1 - LONG_LIST_SHARE) * len(parts)):
        return None
    return cleaned if len(cleaned) + misses >= 2 else None


def _is_name(item: str) -> bool:
    """1 to 5 words starting like a name: what a part of a list line must be."""
    return bool(item) and 1 <= len(item.split()) <= 5 and _starts_like_a_name(item[0])


def _split_outside_parentheses(text: str) -> list[str]:
    """``text`` cut at every ``, `` / ``; `` that is not inside parentheses."""
    if "(" not in text:
        return _SPLIT.split(text)
    parts: list[str] = []
    depth = start = 0
    for match in _SPLIT_OR_PAREN.finditer(text):
        token = match.group()
        if token == "(":
            depth += 1
        elif token == ")":
            depth = max(0, depth - 1)
        elif depth == 0:
            parts.append(text[start : match.start()])
            start = match.end()
    parts.append(text[start:])
    return parts


def _starts_like_a_name(ch: str) -> bool:
    return ch.isupper() or ch.isdigit() or (ch.isalpha() and not ch.islower())
