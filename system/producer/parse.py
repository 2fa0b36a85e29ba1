"""Turn an LLM's list answer into candidate lines."""

from __future__ import annotations

import re

from system.dedup.normalize import clean_display

MAX_LINE = 200
_PREAMBLE = re.compile(r"^(here are|here is|sure|certainly|of course|okay|ok[,!]|below)\b", re.I)


def parse_response(text: str, limit: int | None = None) -> list[str]:
    candidates: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("```") or len(line) > MAX_LINE:
            continue
        if line.endswith(":") or _PREAMBLE.match(line):
            continue
        cleaned = clean_display(line)
        if cleaned:
            candidates.append(cleaned)
    return candidates[:limit] if limit is not None else candidates
