"""Two small closed universes and a scorer for the levers benchmark.

Each member has its aliases (lower case). A line of ``attributes.txt`` is
valid when, after a light clean-up (case, a leading article or generic word,
a trailing remark in parentheses or after a dash or colon, punctuation), it
is a member or one of its aliases. Valid distinct items are the members
found at least once; precision is the share of lines that are valid.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

PLANETS = {
    "mercury": [], "venus": [], "earth": ["the earth", "terra"], "mars": [],
    "jupiter": [], "saturn": [], "uranus": [], "neptune": [],
    "pluto": ["134340 pluto"], "ceres": ["1 ceres"], "eris": ["136199 eris"],
    "haumea": ["136108 haumea"], "makemake": ["136472 makemake"],
    "gonggong": ["225088 gonggong"], "quaoar": ["50000 quaoar"], "sedna": ["90377 sedna"],
    "orcus": ["90482 orcus"],
}  # fmt: skip

_ONE_WORD_STATES = (
    "alabama alaska arizona arkansas california colorado connecticut delaware florida "
    "georgia hawaii idaho illinois indiana iowa kansas kentucky louisiana maine maryland "
    "massachusetts michigan minnesota mississippi missouri montana nebraska nevada "
    "ohio oklahoma oregon pennsylvania tennessee texas utah vermont virginia washington "
    "wisconsin wyoming"
)
US_STATES: dict[str, list[str]] = {name: [] for name in _ONE_WORD_STATES.split()}
US_STATES.update(
    {
        "new hampshire": [], "new jersey": [], "new mexico": [], "new york": ["new york state"],
        "north carolina": [], "north dakota": [], "rhode island": [], "south carolina": [],
        "south dakota": [], "west virginia": [],
    }
)  # fmt: skip

#: topic -> universe (member -> aliases)
TRUTH: dict[str, dict[str, list[str]]] = {
    "Planets and dwarf planets of the Solar System": PLANETS,
    "States of the United States": US_STATES,
}

_PREFIXES = ("the ", "planet ", "dwarf planet ", "state of ", "the state of ")
_REMARK = re.compile(r"\s*(\(.*\)|\[.*\]|\s[-–—]\s.*|:\s.*)$")


def clean(line: str) -> str:
    text = unicodedata.normalize("NFKC", line).casefold().strip()
    text = re.sub(r"^[\s\-*•\d.)#]+", "", text)
    text = text.replace("*", "").replace("`", "").strip(" \"'")
    text = _REMARK.sub("", text).strip().rstrip(".,;:!?").strip()
    changed = True
    while changed:
        changed = False
        for prefix in _PREFIXES:
            if text.startswith(prefix):
                text, changed = text[len(prefix) :].strip(), True
    return " ".join(text.split())


@dataclass(frozen=True)
class Score:
    valid_lines: int
    valid_distinct: int
    lines: int
    universe: int

    @property
    def precision(self) -> float:
        return self.valid_lines / self.lines if self.lines else 0.0

    @property
    def recall(self) -> float:
        return self.valid_distinct / self.universe


def score(topic: str, lines: list[str]) -> Score:
    universe = TRUTH[topic]
    alias = {a: m for m, aliases in universe.items() for a in (m, *aliases)}
    found: set[str] = set()
    valid = 0
    for line in lines:
        member = alias.get(clean(line))
        if member is not None:
            valid += 1
            found.add(member)
    return Score(valid, len(found), len(lines), len(universe))
