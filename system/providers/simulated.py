"""A deterministic simulated LLM that repeats itself the way real models do.

For each topic there is a finite universe of plausible item names (seeded by
a hash of the topic, so every process agrees). Item ``i`` has Zipf-like
popularity ``1/(i+1)^s``: a request draws ``count`` distinct items by
popularity, so popular items come back in almost every answer and the tail
takes many requests to reach, as with real models. The model reads the
prompt text: it obeys the "do not repeat" list only partly, leans toward a
requested partition, and dresses its answer in realistic noise (a preamble,
numbering or bullets, case and punctuation variants, a rare "The " prefix
that an exact key cannot catch).
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from functools import lru_cache

import xxhash

_ADJECTIVES = (
    "Golden",
    "Old",
    "Royal",
    "Hidden",
    "Grand",
    "Little",
    "Silver",
    "Ancient",
    "Green",
    "Crystal",
    "Northern",
    "Southern",
    "Eastern",
    "Western",
    "Upper",
    "Lower",
    "Saint-Martin",
    "Saint-Lazare",
    "Blue",
    "Red",
    "Iron",
    "Stone",
    "Velvet",
    "Quiet",
    "Bright",
    "Misty",
    "Sunny",
    "Maple",
    "Cedar",
    "Willow",
    "Amber",
    "Ivory",
    "Copper",
    "Marble",
    "Painted",
    "Winding",
    "Sleeping",
    "Dancing",
    "Singing",
    "Lantern",
)
_NOUNS = (
    "Harbor",
    "Mill",
    "Garden",
    "River",
    "Tower",
    "Bridge",
    "Market",
    "Palace",
    "Chapel",
    "Fountain",
    "Orchard",
    "Canal",
    "Forge",
    "Meadow",
    "Abbey",
    "Quarter",
    "Arcade",
    "Lighthouse",
    "Vineyard",
    "Observatory",
    "Theatre",
    "Library",
    "Square",
    "Hill",
    "Island",
    "Cellar",
    "Courtyard",
    "Terrace",
    "Passage",
    "Boulevard",
    "Pavilion",
    "Cloister",
    "Bastion",
    "Wharf",
    "Greenhouse",
    "Carousel",
    "Atelier",
    "Conservatory",
    "Rotunda",
    "Promenade",
)
_KINDS = (
    "Gallery",
    "Museum",
    "Park",
    "Walk",
    "Steps",
    "Hall",
    "Gate",
    "Bazaar",
    "Tavern",
    "Baths",
    "Workshop",
    "Collection",
    "Gardens",
    "Viewpoint",
    "Ruins",
    "Monument",
    "Trail",
    "Cafe",
    "Opera",
    "Catacombs",
    "Archive",
    "Studio",
    "House",
    "Cloisters",
    "Station",
    "Pier",
    "Exhibition",
    "Market Hall",
    "Cinema",
    "Salon",
)

_TOPIC = re.compile(r"^Topic:\s*(.+)$", re.M)
_COUNT = re.compile(r"^List\s+(\d+)\b", re.M)
_FOCUS = re.compile(r"^Focus on this part of the topic:\s*(.+)$", re.M)
_AVOID = "Do not repeat any of these already-found items:"
_RANGE = re.compile(r"^\s*([A-Za-z])\s*-\s*([A-Za-z])\s*$")


@dataclass(frozen=True)
class PromptRequest:
    topic: str
    count: int
    avoid: tuple[str, ...]
    partition: str | None


def parse_prompt(prompt: str) -> PromptRequest:
    """Read the request out of the prompt text, tolerating prompts of other shapes."""
    topic_match = _TOPIC.search(prompt)
    first_line = prompt.strip().splitlines()[0] if prompt.strip() else "unknown topic"
    topic = topic_match.group(1).strip() if topic_match else first_line
    count_match = _COUNT.search(prompt)
    count = int(count_match.group(1)) if count_match else 20
    focus = _FOCUS.search(prompt)
    avoid: list[str] = []
    if _AVOID in prompt:
        for line in prompt.split(_AVOID, 1)[1].splitlines():
            if line.startswith("- "):
                avoid.append(line[2:].strip())
    return PromptRequest(
        topic, max(1, count), tuple(avoid), focus.group(1).strip() if focus else None
    )


@dataclass(frozen=True)
class SimulatedCompletion:
    text: str
    input_tokens: int
    output_tokens: int
    finish_reason: str
    model: str


def _topic_seed(topic: str) -> int:
    return xxhash.xxh64_intdigest(topic.strip().casefold().encode("utf-8"))


def _key(text: str) -> str:
    return " ".join(text.casefold().split())


@lru_cache(maxsize=64)
def _universe(topic: str, size: int | None) -> tuple[str, ...]:
    rng = random.Random(_topic_seed(topic))
    n = size if size is not None else rng.randint(300, 900)
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < n:
        name = f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} {rng.choice(_KINDS)}"
        if _key(name) not in seen:
            seen.add(_key(name))
            names.append(name)
    return tuple(names)


class SimulatedModel:
    MODEL_NAME = "sim-zipf-1"

    def __init__(
        self,
        *,
        universe_size: int | None = None,
        zipf_exponent: float = 1.05,
        avoid_obedience: float = 0.6,
        noise: float = 0.15,
    ) -> None:
        self.universe_size = universe_size
        self.zipf_exponent = zipf_exponent
        self.avoid_obedience = avoid_obedience
        self.noise = noise
        self._log_weights: dict[str, list[float]] = {}

    def universe(self, topic: str) -> list[str]:
        return list(_universe(topic, self.universe_size))

    def popularity(self, topic: str) -> list[float]:
        weights = [1.0 / (i + 1) ** self.zipf_exponent for i in range(len(self.universe(topic)))]
        total = sum(weights)
        return [w / total for w in weights]

    def _logs(self, topic: str) -> list[float]:
        logs = self._log_weights.get(topic)
        if logs is None:
            size = len(_universe(topic, self.universe_size))
            logs = [-self.zipf_exponent * math.log(i + 1) for i in range(size)]
            self._log_weights[topic] = logs
        return logs

    def _draw(self, request: PromptRequest, rng: random.Random) -> list[str]:
        items = _universe(request.topic, self.universe_size)
        logs = self._logs(request.topic)
        boost: tuple[str, str] | None = None
        if request.partition and (m := _RANGE.match(request.partition)):
            boost = (m.group(1).upper(), m.group(2).upper())
        scores = []
        for i, base in enumerate(logs):
            score = base - math.log(-math.log(rng.random() or 1e-12))  # Gumbel top-k
            if boost and boost[0] <= items[i][0].upper() <= boost[1]:
                score += math.log(3.0)
            scores.append((score, i))
        scores.sort(reverse=True)
        avoid = {_key(a) for a in request.avoid}
        chosen: list[str] = []
        for _, i in scores:
            if len(chosen) >= request.count:
                break
            item = items[i]
            if avoid and _key(item) in avoid and rng.random() < self.avoid_obedience:
                continue
            chosen.append(item)
        return chosen

    def _variant(self, item: str, rng: random.Random) -> str:
        if rng.random() >= self.noise:
            return item
        kind = rng.randrange(5)
        if kind == 0:
            return item.lower()
        if kind == 1:
            return item.upper()
        if kind == 2:
            return item + "."
        if kind == 3:
            return f'"{item}"'
        return f"The {item}"

    def complete(self, prompt: str, seed: int) -> SimulatedCompletion:
        request = parse_prompt(prompt)
        rng = random.Random(seed ^ _topic_seed(request.topic))
        items = [self._variant(item, rng) for item in self._draw(request, rng)]
        style = rng.random()
        if style < 0.5:
            lines = items
        elif style < 0.75:
            lines = [f"{n}. {item}" for n, item in enumerate(items, 1)]
        else:
            bullet = rng.choice(("-", "*", "•"))
            lines = [f"{bullet} {item}" for item in items]
        if rng.random() < 0.3:
            lines.insert(0, f"Here are {len(items)} {request.topic}:")
        text = "\n".join(lines)
        return SimulatedCompletion(
            text=text,
            input_tokens=max(1, len(prompt) // 4),
            output_tokens=max(1, len(text) // 4),
            finish_reason="stop",
            model=self.MODEL_NAME,
        )
