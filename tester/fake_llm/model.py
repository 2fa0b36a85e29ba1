"""The fake server's simulated model: a per-topic universe with skewed popularity.

Deliberately small and independent of the system's simulated model. It reads
the prompt format of docs/tracing.md's neighbour (system/producer/prompt.py:
``Topic:``, ``Focus on this part of the topic:``, ``List N``, the avoid
list) and answers ``N`` distinct names drawn by Zipf-like popularity:
popular names come back in most answers, the tail takes many requests. Like
a mid-sized real model it follows the avoid list and a letter-range
partition only partly (``follow``). The names are wrapped in the labelled
noise of ``noise`` and returned as ledger ``Line``s; the universe size can be
set exactly, so a scenario knows how many items there are to find.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Sequence
from functools import lru_cache

from tester.fake_llm.ledger import Line
from tester.fake_llm.noise import Asked, NoiseConfig, answer_lines

_TOPIC = re.compile(r"^\s*Topic:[ \t]*(\S.*?)\s*$", re.MULTILINE)
_COUNT = re.compile(r"^\s*(?:List|Propose)\s+(\d+)\b", re.MULTILINE)
_FOCUS = re.compile(r"^\s*Focus on this part of the topic:[ \t]*(\S.*?)\s*$", re.MULTILINE)
_RANGE = re.compile(r"^([A-Z])-([A-Z])$|^([A-Z])$")
AVOID_HEADER = "Do not repeat any of these already-found items:"
SUBTOPICS_MARK = "Propose "
_FIRST = ("North", "Old", "Grand", "Silent", "Blue", "Hidden", "Royal", "Little",
          "Golden", "Stone", "Misty", "Amber", "Iron", "Silver", "Green", "Upper")  # fmt: skip
_SECOND = ("Bridge", "Garden", "Tower", "Market", "Harbor", "Chapel", "Meadow",
           "Palace", "Canal", "Square", "Library", "Orchard", "Abbey", "Quay")  # fmt: skip
_THIRD = ("", " Museum", " Walk", " Hall", " Gate", " Park", " Steps")
UNIVERSE_SIZE = 400
MAX_UNIVERSE = len(_FIRST) * len(_SECOND) * len(_THIRD)
ZIPF_EXPONENT = 1.1
MAX_COUNT = 1000


def _stable_seed(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.casefold().encode()).digest()[:8], "big")


@lru_cache(maxsize=32)
def universe(topic: str, size: int = UNIVERSE_SIZE) -> tuple[str, ...]:
    """The topic's ``size`` names, most popular first (the same in every process)."""
    if not 1 <= size <= MAX_UNIVERSE:
        raise ValueError(f"universe size must be 1..{MAX_UNIVERSE}")
    rng = random.Random(_stable_seed(" ".join(topic.split())))
    names = [f"{a} {b}{c}" for a in _FIRST for b in _SECOND for c in _THIRD]
    rng.shuffle(names)
    return tuple(names[:size])


def read_request(prompt: str) -> tuple[str, int]:
    """(topic, count) asked for by the prompt; tolerant of other shapes."""
    topic_match = _TOPIC.search(prompt)
    if topic_match:
        topic = topic_match.group(1)
    else:
        topic = next((line.strip() for line in prompt.splitlines() if line.strip()), "topic")
    count_match = _COUNT.search(prompt)
    count = int(count_match.group(1)) if count_match else 20
    return topic, max(1, min(count, MAX_COUNT))


def read_asked(prompt: str) -> Asked:
    """Everything the prompt asked for: topic, count, partition, avoid list."""
    topic, count = read_request(prompt)
    focus = _FOCUS.search(prompt)
    avoid: list[str] = []
    lines = prompt.splitlines()
    if AVOID_HEADER in lines:
        for line in lines[lines.index(AVOID_HEADER) + 1 :]:
            if line.startswith("- "):
                avoid.append(line[2:])
    return Asked(topic, count, focus.group(1) if focus else None, avoid)


def is_subtopics(prompt: str) -> bool:
    return any(line.startswith(SUBTOPICS_MARK) for line in prompt.splitlines())


def _in_range(name: str, partition: str | None) -> bool | None:
    """Whether ``name`` is in a letter-range partition (None: not a letter range)."""
    if not partition:
        return None
    match = _RANGE.match(partition.strip())
    if match is None:
        return None
    low, high = (match.group(1), match.group(2)) if match.group(1) else (match.group(3),) * 2
    return low <= name[:1].upper() <= high


def draw(
    asked: Asked,
    rng: random.Random,
    *,
    known: int | None = None,
    size: int = UNIVERSE_SIZE,
    follow: float = 0.6,
) -> list[str]:
    """``asked.count`` distinct names: Gumbel-top-k over Zipf weights, avoided names
    skipped and out-of-partition names demoted with probability ``follow``."""
    names = universe(asked.topic, size)[:known] if known else universe(asked.topic, size)
    avoided = set(asked.avoid)
    keys = []
    for i, name in enumerate(names):
        key = rng.expovariate(1.0) * (i + 1) ** ZIPF_EXPONENT
        if name in avoided and rng.random() < follow:
            key = float("inf")
        elif _in_range(name, asked.partition) is False and rng.random() < follow:
            key *= 50
        keys.append(key)
    order = sorted(range(len(names)), key=keys.__getitem__)
    return [names[i] for i in order[: asked.count] if keys[i] != float("inf")]


def subtopic_lines(asked: Asked) -> list[Line]:
    """A sub-topic answer: kinds of items (the name nouns), plain lines."""
    labels = [f"{noun}s" for noun in _SECOND][: asked.count]
    return [Line(label, "noise", "subtopic") for label in labels]


def answer(
    prompt: str,
    rng: random.Random,
    known: int | None = None,
    *,
    noise: NoiseConfig | None = None,
    size: int = UNIVERSE_SIZE,
) -> list[Line]:
    """The labelled lines answering ``prompt`` (no noise unless ``noise`` says so)."""
    asked = read_asked(prompt)
    if is_subtopics(prompt):
        return subtopic_lines(asked)
    names = draw(asked, rng, known=known, size=size)
    config = noise if noise is not None else NoiseConfig(frozenset(), 0.0)
    prompt_lines: Sequence[str] = prompt.splitlines()
    return answer_lines(asked, names, prompt_lines, config, rng)


def answer_text(prompt: str, rng: random.Random, known: int | None = None) -> str:
    """The plain answer as text (``count`` distinct names, one per line)."""
    return "\n".join(line.text for line in answer(prompt, rng, known))


def count_tokens(text: str) -> int:
    return max(1, len(text) // 4)
