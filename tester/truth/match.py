"""The forgiving match between a line of ``attributes.txt`` and a truth set's names.

A line counts as a member when one of its *readings* equals one of the
member's names (canonical or alias) under ``match_key``:

* ``match_key`` folds what does not change the entity: Unicode compatibility
  forms and accents (NFKD, combining marks dropped), case, ``&`` vs ``and``,
  apostrophes and okinas (dropped: ``Hawai'i`` is ``Hawaii``), other
  punctuation and symbols (replaced by spaces), runs of spaces, and a leading
  article (``the``, ``a``, ``an``). ``The Netherlands``, ``netherlands.`` and
  ``NETHERLANDS`` are one key.
* The readings of a line are, in order: the whole line without list
  decoration (numbering ``1.``/``1)``, bullets ``-``/``*``/``•``, markdown
  ``**bold**``, ``#`` headings, backticks, surrounding quotes), then the line
  cut before each trailing remark, longest first: before `` (`` or `` [``,
  before `` - ``/`` – ``/`` — ``, before ``:``, before ``,`` or ``;``.
  ``Iron (Fe)``, ``Texas - the Lone Star State``, ``Ohio: capital Columbus``
  and ``Maine, in New England`` all read as their member.
* The first reading that names a member *or a listed non-member* decides, so
  ``Washington, D.C.`` (a non-member of the US states) is not read as
  ``Washington``.

What is deliberately not forgiven: misspellings (``Pensylvania``), symbols and
abbreviations that are not listed aliases, several members on one line (only
the first reading that matches counts), and sentences around a name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

_DECORATION = re.compile(
    r"""^\s*(?:
        \#{1,6}\s+                      # markdown heading
      | (?:[-*•+>·–—]\s*)+              # bullets and quote markers
      | \(?\d{1,4}[.):]\s+              # 1.  1)  (1)  12:
      | [a-zA-Z][.)]\s+(?=\S)           # a.  b)
    )+""",
    re.VERBOSE,
)
_EMPHASIS = re.compile(r"\*\*|__|`|\*")
_QUOTES = "\"'“”‘’«»"
_ARTICLE = re.compile(r"^(?:the|a|an)\s+")
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
_SPACES = re.compile(r"\s+")
#: apostrophes and okinas vanish ("Hawai'i" = "Hawaii"); other punctuation becomes a space
_APOSTROPHES = re.compile(r"['’‘`ʻʼ]")
#: where a trailing remark starts: the part before it is a reading
_REMARK_STARTS = re.compile(r"\s+[(\[]|\s+[-–—]\s+|:|[,;]")


def match_key(text: str) -> str:
    """The folded form two names of one entity share (see the module docstring)."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    folded = _APOSTROPHES.sub("", stripped.casefold()).replace("&", " and ").replace("_", " ")
    words = _SPACES.sub(" ", _NON_WORD.sub(" ", folded)).strip()
    return _ARTICLE.sub("", words)


def undecorate(line: str) -> str:
    """The line without list numbering, bullets, markdown emphasis and quotes."""
    text = _EMPHASIS.sub("", line)
    text = _DECORATION.sub("", text).strip()
    return text.strip(_QUOTES).strip()


def readings(line: str) -> Iterator[str]:
    """The keys a line may name its entity by, whole line first, then shorter cuts."""
    text = undecorate(line)
    seen: set[str] = set()
    cuts = [text] + [text[: m.start()] for m in reversed(list(_REMARK_STARTS.finditer(text)))]
    for cut in cuts:
        key = match_key(cut)
        if key and key not in seen:
            seen.add(key)
            yield key
