"""Which attributes fall in a partition of the topic space.

A partition label is a letter range (``A-F``), a single letter (``Q``) or a
sub-topic (any other text: an attribute fits when one of its words starts
with a word of three letters or more of the label, ignoring a plural ``s``).
The simulated LLM reads labels the same way. The empty label is the whole
topic.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["first_letter", "letter_range", "partition_matcher"]

_LETTER_RANGE = re.compile(r"^\s*([A-Za-z])\s*(?:-|–|—|\.\.|to)\s*([A-Za-z])\s*$")
_SINGLE_LETTER = re.compile(r"^\s*([A-Za-z])\s*$")
_WORD = re.compile(r"[^\W\d_]+")


def first_letter(text: str) -> str:
    """The upper-case first letter A-Z of the text, or "" when it starts otherwise."""
    head = text.lstrip()[:1].upper()
    return head if "A" <= head <= "Z" else ""


def letter_range(label: str) -> tuple[str, str] | None:
    """(low, high) upper-case letters of a letter-range or single-letter label."""
    if m := _LETTER_RANGE.match(label):
        low, high = sorted((m.group(1).upper(), m.group(2).upper()))
        return low, high
    if m := _SINGLE_LETTER.match(label):
        return m.group(1).upper(), m.group(1).upper()
    return None


def partition_matcher(label: str | None) -> Callable[[str], bool]:
    """A predicate: does an attribute's display text fit this partition?"""
    if not label or not label.strip():
        return lambda _text: True
    bounds = letter_range(label)
    if bounds is not None:
        low, high = bounds
        return lambda text: low <= text.lstrip()[:1].upper() <= high
    stems = [w.casefold().rstrip("s") for w in _WORD.findall(label) if len(w) >= 3]
    stems = [stem for stem in stems if stem]
    if not stems:
        return lambda _text: False

    def fits(text: str) -> bool:
        return any(w.casefold().startswith(st) for w in _WORD.findall(text) for st in stems)

    return fits
