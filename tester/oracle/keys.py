"""The key of a line under the documented normalization, read from docs/tracing.md.

Independent of the system's code: ``tester.topic.normalize`` (steps 1-5) plus
the key's one extra rule of the parser contract: a leading English article
followed by more words is not part of the key (``The Louvre`` = ``Louvre``).
"""

from __future__ import annotations

import re

from tester.topic.normalize import normalize

_ARTICLE = re.compile(r"^(?:the|a|an) (?=\S)")


def key(text: str) -> str:
    return _ARTICLE.sub("", normalize(text), count=1)
