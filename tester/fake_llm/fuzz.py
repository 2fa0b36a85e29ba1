"""Fuzzed answers: what a broken or hostile model might send, for ``--answers``.

``fuzzed_answers(n, seed)`` returns ``n`` answer texts, deterministic for a
seed, cycling through kinds of junk: random code points of every plane (lone
surrogates, controls, format characters, private use), huge lines (up to
``HUGE`` characters), binary junk decoded as UTF-8 with ``surrogateescape``,
JSON-ish and markdown debris, right-to-left and zero-width tricks, thousands
of tiny lines, and plain lists salted with any of these. ``write_answers``
stores them as JSON Lines (ASCII escapes, so a lone surrogate is the valid
JSON ``"\\ud800"``), the file ``python -m tester.fake_llm --answers`` serves.

Used by tests/integration/test_bad_content.py and benchmarks/fuzz_answers.py
to check that no content stalls a run.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

HUGE = 300_000
_NAMES = ("Louvre", "Musée d'Orsay", "Eiffel Tower", "東京タワー", "Ermitage", "متحف")
_DEBRIS = ("**", "##", "|", "|---|", "```", "- ", "1. ", ": ", " - ", "(", ")", ", ", "\\n",
           '{"items": [', "]}", "null", "\u200b", "\u202e", "\ufeff", "\x00",
           "\x1b[31m")  # fmt: skip


def _code_points(rng: random.Random, size: int) -> str:
    out = []
    for _ in range(size):
        plane = rng.random()
        if plane < 0.5:
            out.append(chr(rng.randrange(0x20, 0x7F)))
        elif plane < 0.6:
            out.append(chr(rng.randrange(0xD800, 0xE000)))  # lone surrogates
        elif plane < 0.7:
            out.append(chr(rng.randrange(0, 0x20)))
        else:
            out.append(chr(rng.randrange(0x80, 0x110000)))
    return "".join(out)


def _random_unicode(rng: random.Random) -> str:
    return _code_points(rng, rng.randrange(1, 2000))


def _huge_line(rng: random.Random) -> str:
    line = rng.choice(("x", "Louvre, ", "\u200b", "\ud800", "é")) * rng.randrange(1000, HUGE)
    return f"Louvre\n{line[:HUGE]}\nOrsay"


def _binary(rng: random.Random) -> str:
    return rng.randbytes(rng.randrange(1, 4000)).decode("utf-8", "surrogateescape")


def _json_ish(rng: random.Random) -> str:
    items = [rng.choice(_NAMES) + _code_points(rng, rng.randrange(0, 4)) for _ in range(20)]
    text = json.dumps({"items": items, "n": rng.random()}, ensure_ascii=rng.random() < 0.5)
    return text[: rng.randrange(1, len(text) + 1)]


def _debris(rng: random.Random) -> str:
    parts = [rng.choice(_DEBRIS + _NAMES) for _ in range(rng.randrange(1, 400))]
    return "".join(p if rng.random() < 0.8 else p + "\n" for p in parts)


def _many_lines(rng: random.Random) -> str:
    return "\n".join(rng.choice((*_NAMES, "", "-", "1.", "|", "A-B"))
                     for _ in range(rng.randrange(1000, 20_000)))  # fmt: skip


def _salted_list(rng: random.Random) -> str:
    lines = []
    for i in range(30):
        name = rng.choice(_NAMES)
        if rng.random() < 0.3:
            name = name[:2] + _code_points(rng, 3) + name[2:]
        lines.append(f"{i + 1}. {name}")
    return "\n".join(lines)


KINDS: tuple[Callable[[random.Random], str], ...] = (
    _random_unicode, _huge_line, _binary, _json_ish, _debris, _many_lines, _salted_list,
)  # fmt: skip


def fuzzed_answers(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [KINDS[i % len(KINDS)](rng) for i in range(n)]


def write_answers(path: Path, answers: list[str]) -> Path:
    path.write_text("".join(json.dumps(a) + "\n" for a in answers), encoding="ascii")
    return path
