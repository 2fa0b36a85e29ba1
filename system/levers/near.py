"""The near-duplicates lever: variants the exact key misses.

"Eiffel Tower" / "The Eiffel Tower, Paris".

Optional (``--near-duplicates``). Each new unique is reduced to a *core*:
its key form without a leading article (the, a, an, le, la, les, l'), without
a trailing parenthesis or a short trailing ", qualifier" (one or two words),
and with punctuation dropped. Two attributes with the same core are near
duplicates; so are two whose cores are at least ``min_ratio`` similar by
rapidfuzz's normalized Indel similarity (``fuzz.ratio``), compared only
within a block of cores sharing their first three characters and of similar
length, so each check stays cheap however large the run grows. Word-set
measures (``token_set_ratio``) are not used: they would merge "Golden Mill"
with "Golden Mill Gallery", which are different attributes.

Orchestrator only (``NearDuplicatesLever``): ``TopicRun`` passes the exact-new
attributes of each batch through ``filter`` before they count, and writes
the near duplicates to near_duplicates.txt. rapidfuzz is imported only when
the lever is on.
"""

from __future__ import annotations

import re
from typing import Any

from system.dedup.normalize import normalize
from system.levers.base import Lever, LeverRun

__all__ = ["NearDuplicateIndex", "NearDuplicatesLever", "core_form"]

_ARTICLE = re.compile(r"^(?:the|a|an|le|la|les)\s+|^l['’]\s*")
_PAREN = re.compile(r"\s*\([^()]*\)\s*$")
_QUALIFIER = re.compile(r",\s*[^,\s]+(?:\s+[^,\s]+)?\s*$")
_PUNCT = re.compile(r"[^\w\s]+")


def core_form(text: str) -> str:
    core = normalize(text)
    core = _PAREN.sub("", core)
    core = _QUALIFIER.sub("", core)
    core = _ARTICLE.sub("", core)
    core = _PUNCT.sub(" ", core)
    return " ".join(core.split())


class NearDuplicateIndex:
    def __init__(self, min_ratio: float = 94.0) -> None:
        from rapidfuzz import fuzz, process

        self._ratio, self._extract_one = fuzz.ratio, process.extractOne
        self.min_ratio = min_ratio
        self._cores: dict[str, str] = {}  # core -> first display
        self._blocks: dict[str, list[str]] = {}

    def __len__(self) -> int:
        return len(self._cores)

    def match(self, display: str) -> str | None:
        """The known attribute this one nearly duplicates, or None (then it is added)."""
        core = core_form(display)
        if not core:
            return None
        known = self._cores.get(core)
        if known is not None:
            return known
        block = self._blocks.setdefault(core[:3], [])
        if block:
            low, high = len(core) * 0.85, len(core) * 1.15
            near = [c for c in block if low <= len(c) <= high]
            if near:
                best = self._extract_one(
                    core, near, scorer=self._ratio, score_cutoff=self.min_ratio
                )
                if best is not None:
                    return self._cores[best[0]]
        self._cores[core] = display
        block.append(core)
        return None

    def add_known(self, display: str) -> None:
        """Seed with an accepted attribute (resume)."""
        core = core_form(display)
        if core and core not in self._cores:
            self._cores[core] = display
            self._blocks.setdefault(core[:3], []).append(core)


class NearDuplicatesLever(Lever):
    """Always built: run.json counts the near duplicates (0 when off)."""

    name = "near_duplicates"

    def __init__(self, on: bool) -> None:
        self.index = NearDuplicateIndex() if on else None
        self.count = 0

    @classmethod
    def build(cls, run: LeverRun) -> NearDuplicatesLever:
        return cls(run.config.near_duplicates)

    def seed(self, lines: list[str]) -> None:
        if self.index is not None:
            for line in lines:
                self.index.add_known(line)

    def filter(self, new: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
        """Split exact-new attributes into (kept, near duplicates as (item, matched))."""
        if self.index is None:
            return new, []
        kept: list[str] = []
        near: list[tuple[str, str]] = []
        for item in new:
            match = self.index.match(item)
            if match is None:
                kept.append(item)
            else:
                near.append((item, match))
        self.count += len(near)
        return kept, near

    def summary(self) -> dict[str, Any]:
        return {"near_duplicates": self.count}
