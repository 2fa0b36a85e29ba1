"""The tester's own reading of the documented normalization (docs/tracing.md).

Deliberately independent of the system's code: it checks the output file
for duplicates the way the documentation says they are defined, including
the key's one extra rule: a leading English article (``the``, ``a``, ``an``)
followed by more words does not count (``The Louvre`` = ``Louvre``).
"""

from __future__ import annotations

import re
import unicodedata

_MARKER = re.compile(r"^\s*(?:\(?\d+[.)]|\d+\s+-|[-*•·–—+#])\s+")
_QUOTES = "\"'`“”‘’«»"
_TRAILING = ".,;:!?"
_ARTICLES = frozenset({"the", "a", "an"})


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).strip()
    previous = None
    while previous != text:
        previous = text
        text = _MARKER.sub("", text).strip()
        text = text.strip(_QUOTES).strip()
        text = text.rstrip(_TRAILING).strip()
        if text.startswith(("**", "__")) and text.endswith(("**", "__")):
            text = text[2:-2]
    text = " ".join(text.casefold().split())
    # the key drops a leading English article when more words follow ("The Louvre" = "Louvre")
    while True:
        head, _, rest = text.partition(" ")
        if head not in _ARTICLES or not rest.strip(_QUOTES + _TRAILING + " "):
            return text
        text = normalize(rest)
