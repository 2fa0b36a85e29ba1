"""The fake server's simulated answers: a per-topic universe with skewed popularity.

Deliberately small and independent of the system's simulated model. It reads
``Topic: <topic>`` and ``List <n>`` from the prompt (the format in
docs/tracing.md's neighbour, system/producer/prompt.py) and answers ``n``
distinct names, one per line, drawn by Zipf-like popularity: popular names
come back in most answers, the tail takes many requests.
"""

from __future__ import annotations

import hashlib
import random
import re
from functools import lru_cache

_TOPIC = re.compile(r"^\s*Topic:[ \t]*(\S.*?)\s*$", re.MULTILINE)
_COUNT = re.compile(r"^\s*List\s+(\d+)\b", re.MULTILINE)
_FIRST = ("North", "Old", "Grand", "Silent", "Blue", "Hidden", "Royal", "Little",
          "Golden", "Stone", "Misty", "Amber", "Iron", "Silver", "Green", "Upper")  # fmt: skip
_SECOND = ("Bridge", "Garden", "Tower", "Market", "Harbor", "Chapel", "Meadow",
           "Palace", "Canal", "Square", "Library", "Orchard", "Abbey", "Quay")  # fmt: skip
_THIRD = ("", " Museum", " Walk", " Hall", " Gate", " Park", " Steps")
UNIVERSE_SIZE = 400
ZIPF_EXPONENT = 1.1
MAX_COUNT = 1000


def _stable_seed(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.casefold().encode()).digest()[:8], "big")


@lru_cache(maxsize=32)
def universe(topic: str) -> tuple[str, ...]:
    """The topic's names, most popular first (the same in every process)."""
    rng = random.Random(_stable_seed(" ".join(topic.split())))
    names = [f"{a} {b}{c}" for a in _FIRST for b in _SECOND for c in _THIRD]
    rng.shuffle(names)
    return tuple(names[:UNIVERSE_SIZE])


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


def answer(prompt: str, rng: random.Random, known: int | None = None) -> str:
    """``count`` distinct names of the prompt's topic, one per line; a model that
    ``known``s fewer names (a weaker one) draws only from the most popular."""
    topic, count = read_request(prompt)
    names = universe(topic)[:known] if known else universe(topic)
    # Gumbel-top-k: the k smallest Exp(1) / weight draw k items without replacement.
    keys = [rng.expovariate(1.0) * (i + 1) ** ZIPF_EXPONENT for i in range(len(names))]
    order = sorted(range(len(names)), key=keys.__getitem__)[:count]
    return "\n".join(names[i] for i in order)


def count_tokens(text: str) -> int:
    return max(1, len(text) // 4)
