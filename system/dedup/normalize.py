"""Normalization of candidate lines: the display form and the dedup key form.

``clean_display(text)`` (what is written to attributes.txt):
  1. trim whitespace; remove list markers at the start (``1.``, ``1)``,
     ``(1)``, ``12 -``, ``-``, ``*``, ``•``, ``·``, ``–``, ``—``, ``+``, ``#``),
     repeatedly (``- 1. x`` -> ``x``);
  2. remove surrounding quotes and backticks (" ' “ ” ‘ ’ « » `) and
     markdown ``**bold**`` / ``__bold__`` wrappers;
  3. remove trailing punctuation ``. , ; : ! ?`` (an ellipsis too);
  4. collapse whitespace runs to one space.
``normalize(text)`` (the key form): ``clean_display``, then Unicode NFKC,
then ``str.casefold``, then steps 1-4 again (NFKC can expose new quotes or
punctuation, e.g. full-width ones). ``normalize`` is idempotent.
"""

from __future__ import annotations

import re
import unicodedata

_MARKER = re.compile(r"^(?:\(\d+\)|\d+[.)]|\d+\s+-|[-*•·–—+#]+)(?:\s+|$)")
_QUOTE_PAIRS = {'"': '"', "'": "'", "`": "`", "“": "”", "‘": "’", "«": "»", "”": "”", "„": "“"}
_TRAILING = ".,;:!?…"


def _strip_once(text: str) -> str:
    text = text.strip()
    text = _MARKER.sub("", text).strip()
    for wrapper in ("**", "__"):
        if len(text) > 4 and text.startswith(wrapper) and text.endswith(wrapper):
            text = text[2:-2].strip()
    if len(text) >= 2 and _QUOTE_PAIRS.get(text[0]) == text[-1]:
        text = text[1:-1].strip()
    return text.rstrip(_TRAILING).strip()


def clean_display(text: str) -> str:
    previous = None
    while previous != text:
        previous = text
        text = _strip_once(text)
    return " ".join(text.split())


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", clean_display(text)).casefold()
    return clean_display(text)
