"""Topic identity and the output folder's name (the slug).

Two topics share an output folder only if they are the same topic: the same
text up to case and runs of white space (``topic_identity``). A slug that
spells that identity exactly in lower-case ASCII letters, digits and single
dashes ("paris-attractions") is used as is; any other slug lost something on
the way (punctuation, accents, another script, length), so it gets a short
hash of the identity after an underscore, a character no lossless slug (and
no readable part) contains: ``c-tips`` is "C tips", ``c-tips_2ad4aa63ba``
"C++ tips". A hash collision (40 bits) is still caught: a folder whose
run.json names another topic is not resumed.
Any script keeps its letters (NFC, so a name typed on macOS and on Linux is
the same folder); only path separators, control characters and other
punctuation are replaced, and the name stays well under 255 bytes.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

#: characters of the readable part (in UTF-8 at most 4 bytes each: 240 bytes)
READABLE_CHARS = 60
HASH_CHARS = 10
_LOSSLESS = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def topic_identity(topic: str) -> str:
    """What makes two topics the same: NFC text, case-folded, white space collapsed."""
    return " ".join(unicodedata.normalize("NFC", topic).casefold().split())


def has_word_characters(topic: str) -> bool:
    """A letter or a digit in any script: something to name the topic by."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in topic)


def topic_slug(topic: str) -> str:
    identity = topic_identity(topic)
    # letters, marks (vowel signs of Indic scripts) and digits of any script stay
    kept = "".join(ch if unicodedata.category(ch)[0] in "LMN" else "-" for ch in identity)
    readable = re.sub(r"-+", "-", kept).strip("-")[:READABLE_CHARS].strip("-")
    if _LOSSLESS.fullmatch(readable) and readable.replace("-", " ") == identity:
        return readable
    digest = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:HASH_CHARS]
    return f"{readable}_{digest}" if readable else f"topic_{digest}"
