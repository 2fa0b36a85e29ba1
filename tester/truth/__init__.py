"""Closed-universe truth sets and the scorer that judges an output folder by them.

A truth set is the tester's own truth about a topic whose members are known
and finite (the 50 US states, the 118 chemical elements...): a JSON file in
``sets/`` with the topic, the canonical name of every member and its aliases.
Scoring a run against it says what the unique-line count cannot: how many
lines are real members (precision), how much of the universe was found
(recall), and how many valid distinct members each 1k tokens bought.

    from tester.truth import load, score_output
    result = score_output(Path("output/us-states"), load("us-states"))
    result.precision, result.recall, result.valid_per_1k_tokens

CLI: ``python -m tester.truth score OUTPUT_DIR [--set NAME]``, ``python -m
tester.truth list``. The match rules are in ``tester/truth/match.py``.
"""

from tester.truth.match import match_key
from tester.truth.score import Score, score_lines, score_output
from tester.truth.sets import TruthSet, TruthSetError, available, for_topic, load

__all__ = [
    "Score",
    "TruthSet",
    "TruthSetError",
    "available",
    "for_topic",
    "load",
    "match_key",
    "score_lines",
    "score_output",
]
