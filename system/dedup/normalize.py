"""Normalization of candidate lines: the display form and the dedup key form.

This docstring is the contract. Two candidates are the same attribute exactly
when their ``normalize`` results are equal (their keys are the xxHash3-64 of
that text, see ``system.dedup.keys``).

``clean_display(text)`` -- the display form, written to attributes.txt. The
following steps are repeated until the text no longer changes:

1. Trim surrounding whitespace.
2. Remove one list marker at the start, when it is followed by whitespace or
   by the end of the text: a number with a dot or a parenthesis (``1.``,
   ``1)``), a number in parentheses (``(1)``), a number followed by spaces
   and a hyphen (``12 -``), or a run of bullet/heading characters
   ``- * • · – — + #`` (``-``, ``**``, ``##``). A marker glued to the text
   is not one (``1.5 km Walk``, ``#1 Hit``, ``-5 Club`` are kept). Nested
   markers go one per round (``- 1. x`` -> ``x``).
3. Remove a ``**...**`` or ``__...__`` markdown wrapper around the whole
   text.
4. Remove one pair of matching surrounding quotes: ``"..."``, ``'...'``,
   ```...```, ``“...”``, ``‘...’``, ``«...»``, ``»...«``, ``„...“``,
   ``”...”``. The pair is kept when the text inside contains the closing
   quote character again (``"A" and "B"`` stays as it is), except for an
   apostrophe between two letters (``'Musée d'Orsay'`` -> ``Musée d'Orsay``).
5. Remove trailing punctuation: any run of ``. , ; : ! ?`` and ``…`` (so a
   trailing ``...`` goes too). A closing ``)`` is never removed
   (``Café (Paris).`` -> ``Café (Paris)``).

Finally every run of whitespace becomes one space. Case, inner punctuation
and accents are kept. The result is ``""`` when nothing is left (``"- "``,
``"1."``, ``"..."``).

``normalize(text)`` -- the key form: ``clean_display(text)``, then Unicode
NFKC, then ``str.casefold()``, then ``clean_display`` again (NFKC can turn
full-width quotes, markers or punctuation into ASCII ones that step 1-5 then
remove, and collapses compatibility spaces). These three steps are repeated
until the text no longer changes (in practice at most twice), so
``normalize(normalize(x)) == normalize(x)``. Examples: ``"1. Eiffel Tower"``,
``"- eiffel tower."``, ``'"EIFFEL TOWER"'``, ``"Eiffel  Tower!"`` and
``"ＥＩＦＦＥＬ ＴＯＷＥＲ"`` all normalize to ``"eiffel tower"``;
``"straße"`` and ``"STRASSE"`` both to ``"strasse"``.

The key also drops a leading English article (``the``, ``a``, ``an`` and a
space) when more words follow, repeatedly (``"The Louvre"``, ``"the
louvre"`` and ``"Louvre"`` are one attribute; ``"A"`` and ``"The"`` alone
stay). Only the key: the display keeps the article, and the first-seen form
is what attributes.txt shows. Real models write the same entity both ways.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["clean_display", "normalize"]

_MARKER = re.compile(r"^(?:\(\d+\)|\d+[.)]|\d+\s+-|[-*•·–—+#]+)(?=\s|$)")
#: opening quote -> the closing quote that matches it
_QUOTE_PAIRS: dict[str, str] = {
    '"': '"',
    "'": "'",
    "`": "`",
    "“": "”",
    "”": "”",
    "„": "“",
    "‘": "’",
    "«": "»",
    "»": "«",
}
_APOSTROPHES = frozenset("'’")
_WRAPPERS = ("**", "__")
_TRAILING = ".,;:!?…"
_MAX_NORMALIZE_ROUNDS = 8
#: a leading English article (on the case-folded text) with a word after it
_ARTICLE = re.compile(r"^(?:the|an|a) +(?=\S)")


def _closing_reappears(inner: str, closing: str) -> bool:
    """True when ``closing`` occurs in ``inner`` other than as a word-internal apostrophe."""
    start = inner.find(closing)
    while start != -1:
        word_internal = (
            closing in _APOSTROPHES
            and 0 < start < len(inner) - 1
            and inner[start - 1].isalpha()
            and inner[start + 1].isalpha()
        )
        if not word_internal:
            return True
        start = inner.find(closing, start + 1)
    return False


def _unquote(text: str) -> str:
    if len(text) < 2:
        return text
    closing = _QUOTE_PAIRS.get(text[0])
    if closing is None or text[-1] != closing:
        return text
    inner = text[1:-1]
    if _closing_reappears(inner, closing):
        return text
    return inner


def _unwrap(text: str) -> str:
    for wrapper in _WRAPPERS:
        if (
            len(text) > 2 * len(wrapper)
            and text.startswith(wrapper)
            and text.endswith(wrapper)
            and wrapper not in text[2:-2]
        ):
            return text[2:-2]
    return text


def _strip_once(text: str) -> str:
    text = text.strip()
    text = _MARKER.sub("", text, count=1).strip()
    text = _unwrap(text).strip()
    text = _unquote(text).strip()
    return text.rstrip(_TRAILING).rstrip()


def clean_display(text: str) -> str:
    """The display form of one candidate line (see the module docstring)."""
    previous = None
    while previous != text:
        previous = text
        text = _strip_once(text)
    return " ".join(text.split())


def normalize(text: str) -> str:
    """The dedup key form of one candidate line (see the module docstring)."""
    text = clean_display(text)
    for _ in range(_MAX_NORMALIZE_ROUNDS):
        folded = _drop_articles(clean_display(unicodedata.normalize("NFKC", text).casefold()))
        if folded == text:
            break
        text = folded
    return text


def _drop_articles(folded: str) -> str:
    """A leading ``the``/``a``/``an`` followed by more words, repeatedly, then cleaned again."""
    while True:
        match = _ARTICLE.match(folded)
        if match is None:
            return folded
        rest = clean_display(folded[match.end() :])
        if not rest:
            return folded
        folded = rest
