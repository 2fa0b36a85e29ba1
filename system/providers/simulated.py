"""A deterministic simulated LLM that repeats itself the way real models do.

For each topic there is a finite universe of plausible item names, built from
word lists with a generator seeded by an xxHash of the topic (so every process
agrees on it, unlike Python's salted ``hash``). Its size is 300-900, chosen
by the same hash, unless ``universe_size`` is given; all names are distinct
under ``normalize``, and none starts with "The ".

Item ``i`` has Zipf popularity ``1/(i+1)**s``. A request draws ``count``
distinct items by popularity without replacement (exponential keys
``E/w``, the Gumbel-top-k trick, one pass over the universe), so popular
items come back in almost every answer and the tail takes many requests,
as with real models. The model reads the prompt text (``parse_prompt``):

* avoid list: each avoided item is skipped with probability
  ``avoid_obedience`` when it is drawn, so the list is honoured only partly;
* partition: items that fit it (a letter range ``A-F`` or a single letter by
  the item's first letter; any other text by a word of the item starting
  with a word of the partition) get ``partition_boost`` times the weight; with
  ``partition_obedience`` > 0 each line of the answer is an item that does
  not fit with probability ``1 - partition_obedience``, and once the items
  that fit are exhausted the rest of the answer is padded with items that do
  not (a model asked for 30 items of a letter that has 12 left still answers
  30 lines), all in draw order;
* noise: the answer is plain (50%), numbered ``1.`` (25%) or bulleted
  ``-``/``*``/``•`` (25%); 30% of answers open with a preamble line ending in
  ":" and 10% close with a chat remark ("I hope this helps!"); each item is,
  with probability ``noise``, a variant: lower case, UPPER case, a trailing
  period or wrapped in double quotes (each 1/4 of variants, all with the same
  key as the original);
* real-output noise (``REAL_NOISE``, scaled by ``realism``, 1 by default, 0
  for none), measured on the recorded answers of a real small model
  (tests/data/real_corpus, by ``scripts/corpus_stats.py``): per answer, noise
  lines of each kind the parser contract drops (commentary, echoes of the
  instructions, of the topic and of the partition label, letter-range lines,
  lines with no letter, over-long lines, sentences), at the rate the corpus
  shows; per item line, a trailing remark ``X (remark)`` (sometimes the
  partition label: ``X (A-F)``), a description ``X - d`` / ``X: d``, a
  leading ``The`` and 2-3 items joined on one line (``A, B and C``). Every
  decoration parses back to the item's key (the key drops a leading
  article), so the universe, the draws and the yields do not change: only
  the text, its tokens and the parser's work do. The rates are the corpus's;
  the texts of the noise lines are ours.

Two profiles (``PROFILES``; ``--sim-profile`` on the orchestrator) set how
well the model follows instructions; everything else is the same:

* ``weak`` (the default; model name ``sim-zipf-1``): avoid obedience 0.6,
  partition boost 3x, no partition obedience. A small model that treats the
  instructions as hints: it still names 4 in 10 forbidden items and most of
  an answer is outside the requested part of the topic.
* ``strong`` (``sim-zipf-1-strong``): a large instruction-following model.
  Avoid obedience 0.95: an exclusion list written out in the prompt is a
  plain, checkable instruction that such models honour almost always; the 5%
  left stands for the slips they still make (an item restated with other
  words, an item deep in a long list). Partition obedience 0.9 and no boost:
  a focus ("A-F") is softer than an exclusion, since whether an item belongs
  to it is the model's own judgement (an article, a translated name), so 1
  line in 10 strays off the focus; inside the focus it names items in its
  usual order of popularity, hence no extra boost. These
  values were chosen for those reasons before any benchmark run, not fitted
  to the benchmark's targets.

Sub-topic prompts (``system.producer.prompt.build_subtopics_prompt``,
recognised by their "Propose N ... sub-topics" line; ``--partition-by
subtopics``) are answered from the universe too: its vocabulary is the nouns
and kinds of the item names ("Mill", "Gardens"), ranked by how many items
each names; words of the labels the prompt says are taken are skipped, so a
later round proposes the next ones. The answer carries the list answers'
noise (numbering or bullets, preamble, closing remark) but no item variants.

* ``strong`` proposes ``N`` labels of two words each ("Halls and
  pavilions"), pairing the most frequent word left with the least frequent
  of the ``2N`` taken, so every label names a similar share of the universe
  (a few percent each) and the labels together cover much of it. That is
  what a large model does with "N distinct, non-overlapping sub-topics":
  concrete kinds of item, balanced.
* ``weak`` proposes single words for only half of the ``N`` labels and pads
  the rest with vague categories ("Popular attractions", "Hidden gems") that
  name no kind of item, so they match few or no item names and a producer
  focused on one works much as on the whole topic. Small models follow the
  letter of such a request (N lines) more than its intent (a partition of
  the topic), and fall back on generic travel-guide categories; the share is
  a judgement, like the profiles' obedience, not fitted to a benchmark.

Everything is a function of ``(prompt, seed)``: ``complete`` uses
``random.Random(seed ^ topic_hash)``.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from functools import lru_cache

import xxhash

from system.dedup.normalize import normalize

__all__ = [
    "AVOID_HEADER",
    "DEFAULT_PROFILE",
    "PROFILES",
    "PromptRequest",
    "SimulatedCompletion",
    "SimulatedModel",
    "SubtopicsRequest",
    "parse_prompt",
    "parse_subtopics_prompt",
    "topic_hash",
]

_ADJECTIVES = (
    "Golden", "Old", "Royal", "Hidden", "Grand", "Little", "Silver", "Ancient",
    "Green", "Crystal", "Northern", "Southern", "Eastern", "Western", "Upper",
    "Lower", "Blue", "Red", "Iron", "Stone", "Velvet", "Quiet", "Bright",
    "Misty", "Sunny", "Maple", "Cedar", "Willow", "Amber", "Ivory", "Copper",
    "Marble", "Painted", "Winding", "Sleeping", "Dancing", "Singing", "Lantern",
    "Forgotten", "Emerald", "Scarlet", "Hollow", "Twin", "Broad", "Narrow",
    "Jade", "Ochre", "Zephyr", "Young", "Kings", "Tall", "Falcon",
)  # fmt: skip
_NOUNS = (
    "Harbor", "Mill", "Garden", "River", "Tower", "Bridge", "Market", "Palace",
    "Chapel", "Fountain", "Orchard", "Canal", "Forge", "Meadow", "Abbey",
    "Quarter", "Arcade", "Lighthouse", "Vineyard", "Observatory", "Theatre",
    "Library", "Square", "Hill", "Island", "Cellar", "Courtyard", "Terrace",
    "Passage", "Boulevard", "Pavilion", "Cloister", "Bastion", "Wharf",
    "Greenhouse", "Carousel", "Atelier", "Conservatory", "Rotunda", "Promenade",
    "Dock", "Embankment", "Keep", "Nursery", "Yard", "Quay",
)  # fmt: skip
_KINDS = (
    "Gallery", "Museum", "Park", "Walk", "Steps", "Hall", "Gate", "Bazaar",
    "Tavern", "Baths", "Workshop", "Collection", "Gardens", "Viewpoint",
    "Ruins", "Monument", "Trail", "Cafe", "Opera", "Catacombs", "Archive",
    "Studio", "House", "Cloisters", "Station", "Pier", "Exhibition",
    "Market Hall", "Cinema", "Salon",
)  # fmt: skip
_PLACES = (
    "Saint-Lazare", "Saint-Martin", "Saint-Germain", "Sainte-Claire",
    "Montclair", "Belleville", "Bellevue", "Ravenscroft", "Ashford",
    "Montrouge", "Vaugirard", "Clairmont", "Dunmore", "Eastbrook",
    "Fairhaven", "Glenwood", "Hartwell", "Kingsbridge", "Larkspur",
    "Marchmont", "Northcote", "Oakhurst", "Pemberton", "Queensgate",
    "Rosemont", "Thornbury", "Upton", "Valmont", "Whitby", "Yardley",
    "Zurbaran", "Ile-Verte", "Port-Royal", "Val-de-Grace",
)  # fmt: skip

AVOID_HEADER = "Do not repeat any of these already-found items:"
SUBTOPICS_EXCLUDE_HEADER = "These sub-topics are already taken; propose different ones:"
_SUBTOPICS_COUNT = re.compile(r"^\s*Propose\s+(\d+)\s+.*\bsub-topics\b", re.MULTILINE)
#: what a small model pads a sub-topic answer with: categories no item name reads as
_VAGUE_SUBTOPICS = (
    "Popular attractions", "Hidden gems", "Historic sites", "Local favourites",
    "Famous landmarks", "Seasonal highlights", "Family outings", "Cultural experiences",
    "Must-see places", "Lesser-known spots",
)  # fmt: skip
_TOPIC = re.compile(r"^\s*Topic:[ \t]*(\S.*?)\s*$", re.MULTILINE)
_COUNT = re.compile(r"^\s*List\s+(\d+)\b", re.MULTILINE)
_FOCUS = re.compile(r"^\s*Focus on this part of the topic:[ \t]*(\S.*?)\s*$", re.MULTILINE)
_LETTER_RANGE = re.compile(r"^\s*([A-Za-z])\s*(?:-|–|—|\.\.|to)\s*([A-Za-z])\s*$")
_SINGLE_LETTER = re.compile(r"^\s*([A-Za-z])\s*$")
_WORD = re.compile(r"[^\W\d_]+")

DEFAULT_COUNT = 20
PARTITION_BOOST = 3.0


@dataclass(frozen=True)
class Profile:
    """How well the simulated model follows the prompt's instructions."""

    model_name: str
    avoid_obedience: float  # P(an avoided item is skipped when drawn)
    partition_boost: float  # weight factor of items that fit the partition
    partition_obedience: float  # P(an item outside the partition is skipped when drawn)


PROFILES: dict[str, Profile] = {
    "weak": Profile("sim-zipf-1", avoid_obedience=0.6, partition_boost=PARTITION_BOOST,
                    partition_obedience=0.0),
    "strong": Profile("sim-zipf-1-strong", avoid_obedience=0.95, partition_boost=1.0,
                      partition_obedience=0.9),
}  # fmt: skip
DEFAULT_PROFILE = "weak"
_UNIVERSE_MIN, _UNIVERSE_MAX = 300, 900
_PREAMBLES = (
    "Here are {n} {topic}:",
    "Sure! Here are {n} more {topic}:",
    "Certainly! Here is a list of {topic}:",
    "Here is a list of {n} distinct items:",
)
_CLOSINGS = (
    "I hope this helps!",
    "Let me know if you would like more.",
    "Feel free to ask for more items.",
)


#: what real answers look like, measured by ``scripts/corpus_stats.py`` (its
#: "calibration" section) on tests/data/real_corpus (SmolLM2-135M-Instruct answering
#: the producer's prompts): noise lines per answer by kind, and the shares of item
#: lines that carry a remark, a description, several items or a leading article.
REAL_NOISE: dict[str, float] = {
    "commentary": 0.48,  # preambles, closings, "The list is complete."
    "instruction_echo": 0.11,  # "Focus on this part of the topic: A-F"
    "letter_range_partitioned": 0.47,  # "A-F", "A-B 2018, C-D 2019" (answers with a partition)
    "letter_range_whole": 0.29,  # the same in answers without one
    "long_line": 0.11,  # one line of 200+ characters
    "no_letter": 0.09,  # "2023", "13.", "..."
    "sentence": 0.45,  # "The list of 30 distinct items is a perfect example of enumeration."
    "topic_echo": 0.29,  # the topic or the partition label on a line of its own
    "remark": 0.098,  # "X (remark)"
    "description": 0.065,  # "X - description", "X: description"
    "several_items": 0.059,  # "A, B and C" on one line
    "leading_article": 0.096,  # "The X"
}
_SENTENCES = (
    "The list of {n} distinct items is a perfect example of enumeration.",
    "These items are all distinct and there are no duplicates in this list.",
    "Each of the items above is a unique part of the topic of {topic}.",
    "I have listed the items in no particular order and without any commentary.",
    "Some of these may be better known than others, but all of them are worth a visit.",
)
_COMMENTARY = ("The list is complete.", "The list is complete and concise.", "Here you go:")
_REMARKS = ("popular", "a local favourite", "since 1850", "free entry", "closed on Mondays")
_DESCRIPTIONS = ("a well-known place", "worth a visit", "one of the best known")


@dataclass(frozen=True)
class PromptRequest:
    topic: str
    count: int
    avoid: tuple[str, ...]
    partition: str | None


def parse_prompt(prompt: str) -> PromptRequest:
    """Read the request out of the prompt text (``system.producer.prompt`` format).

    Tolerant of other shapes: without a ``Topic:`` line the topic is the whole
    first non-blank line; without ``List N`` the count is 20; the avoid list is
    the ``- `` lines after the "Do not repeat" line.
    """
    topic_match = _TOPIC.search(prompt)
    if topic_match:
        topic = topic_match.group(1)
    else:
        topic = next((line.strip() for line in prompt.splitlines() if line.strip()), "")
    count_match = _COUNT.search(prompt)
    count = max(1, int(count_match.group(1))) if count_match else DEFAULT_COUNT
    focus = _FOCUS.search(prompt)
    avoid = _dash_items_after(prompt, AVOID_HEADER)
    return PromptRequest(topic, count, avoid, focus.group(1) if focus else None)


def _dash_items_after(prompt: str, header: str) -> tuple[str, ...]:
    """The ``- item`` lines after ``header`` in the prompt (none without the header)."""
    _, found, rest = prompt.partition(header)
    if not found:
        return ()
    stripped = (line.strip() for line in rest.splitlines())
    return tuple(s[2:].strip() for s in stripped if s.startswith("- ") and s[2:].strip())


@dataclass(frozen=True)
class SubtopicsRequest:
    topic: str
    count: int
    exclude: tuple[str, ...]


def parse_subtopics_prompt(prompt: str) -> SubtopicsRequest | None:
    """The sub-topic request in a ``build_subtopics_prompt`` prompt; None for any other."""
    count_match = _SUBTOPICS_COUNT.search(prompt)
    if count_match is None:
        return None
    topic_match = _TOPIC.search(prompt)
    topic = topic_match.group(1) if topic_match else ""
    exclude = _dash_items_after(prompt, SUBTOPICS_EXCLUDE_HEADER)
    return SubtopicsRequest(topic, max(1, int(count_match.group(1))), exclude)


def _dress(items: list[str], rng: random.Random, topic: str) -> str:
    """An answer's noise around its lines: numbering or bullets, preamble, closing."""
    style = rng.random()
    if style < 0.5:
        lines = items
    elif style < 0.75:
        lines = [f"{n}. {item}" for n, item in enumerate(items, 1)]
    else:
        bullet = rng.choice(("-", "*", "•"))
        lines = [f"{bullet} {item}" for item in items]
    if rng.random() < 0.3:
        preamble = rng.choice(_PREAMBLES)
        lines.insert(0, preamble.format(n=len(items), topic=topic))
    if rng.random() < 0.1:
        lines.append(rng.choice(_CLOSINGS))
    return "\n".join(lines)


def _dress_answer(
    items: list[str], rng: random.Random, request: PromptRequest, realism: float
) -> str:
    """A list answer's real-output noise (``REAL_NOISE`` times ``realism``): decorated
    items, several items on a line, and noise lines, around ``_dress``'s numbering."""
    rates = {kind: rate * realism for kind, rate in REAL_NOISE.items()}
    lines: list[str] = []
    i = 0
    while i < len(items):
        item = items[i]
        group = [item]
        if rng.random() < rates["several_items"] / 2:  # a line of 2-3 joins that many items
            while len(group) < rng.choice((2, 3)) and i + len(group) < len(items):
                group.append(items[i + len(group)])
        if len(group) > 1 and all(_splittable(x) for x in group):
            # "A, B" or "A, B and C" (the parser keeps "A and B" alone whole: a name like that)
            joined = (
                ", ".join(group) if len(group) == 2 else f"{group[0]}, {group[1]} and {group[2]}"
            )
            lines.append(joined)
            i += len(group)
            continue
        roll = rng.random()
        if roll < rates["remark"]:
            remark = request.partition if request.partition and rng.random() < 0.3 else None
            item = f"{item} ({remark or rng.choice(_REMARKS)})"
        elif roll < rates["remark"] + rates["description"]:
            described = f"{item}{rng.choice((' - ', ': '))}{rng.choice(_DESCRIPTIONS)}"
            if len(described.split()) < 9:  # longer, the parser reads a sentence: no item
                item = described
        if rng.random() < rates["leading_article"] and len(item.split()) < 5:
            item = f"The {item}"  # (on a longer line it could read as a sentence)
        lines.append(item)
        i += 1
    noise: list[str] = []
    letters = "letter_range_partitioned" if request.partition else "letter_range_whole"
    label = request.partition or "A-Z"
    if not (_LETTER_RANGE.match(label) or _SINGLE_LETTER.match(label)):
        label = "A-Z"  # a sub-topic label is no range of letters
    makers = {
        "commentary": lambda: rng.choice(_COMMENTARY),
        "instruction_echo": lambda: (
            f"Focus on this part of the topic: {request.partition}" if request.partition
            else f"List {request.count} distinct items, one per line:"
        ),
        letters: lambda: rng.choice((label, f"{label} {rng.randrange(1990, 2030)}")),
        "long_line": lambda: f"{request.count} distinct items: " + ", ".join(
            str(n) for n in range(1, 70)),
        "no_letter": lambda: rng.choice(("2023", "...", f"{request.count}.", "1, 2, 3")),
        "sentence": lambda: rng.choice(_SENTENCES).format(n=request.count, topic=request.topic),
        "topic_echo": lambda: request.partition if request.partition and rng.random() < 0.3
        else request.topic,
    }  # fmt: skip
    for kind, make in makers.items():
        rate = rates[kind]
        for _ in range(int(rate) + (rng.random() < rate - int(rate))):
            noise.append(make())
    for line in noise:
        lines.insert(rng.randrange(len(lines) + 1), line)
    return _dress(lines, rng, request.topic) if lines else ""


def _splittable(item: str) -> bool:
    """Whether the parser splits this item back out of ``A, B and C`` (rule 5)."""
    return len(item.split()) <= 5 and item[:1].isupper() and not any(
        sep in item for sep in (", ", "; ", " and ", " & ", " or ", "(")
    )  # fmt: skip


def _stem(word: str) -> str:
    """How the partition matcher reads a label's word: case-folded, plural s dropped."""
    return word.casefold().rstrip("s")


def _plural(word: str) -> str:
    """A label's plural that the matcher still reads as the word ("Mill" -> "Mills")."""
    if word.endswith(("s", "y", "ch", "sh", "x", "z")):
        return word
    return word + "s"


@lru_cache(maxsize=64)
def _vocabulary(names: tuple[str, ...]) -> tuple[str, ...]:
    """The kinds and nouns of the item names, by how many items they name (most first)."""
    forms: dict[str, str] = {}
    for word in (w for entry in _NOUNS + _KINDS for w in entry.split()):
        forms.setdefault(_stem(word), word)
    counts: dict[str, int] = dict.fromkeys(forms, 0)
    for name in names:
        for stem in {_stem(w) for w in _WORD.findall(name)}:
            if stem in counts:
                counts[stem] += 1
    ranked = sorted((stem for stem in forms if counts[stem]), key=lambda st: (-counts[st], st))
    return tuple(forms[stem] for stem in ranked)


@dataclass(frozen=True)
class SimulatedCompletion:
    text: str
    input_tokens: int
    output_tokens: int
    finish_reason: str
    model: str


def topic_hash(topic: str) -> int:
    """A stable 64-bit hash of the topic (case and surrounding space ignored)."""
    return xxhash.xxh64_intdigest(" ".join(topic.split()).casefold().encode("utf-8"))


#: avoid lists repeat across requests: normalize each distinct text once
_normalize_cached = lru_cache(maxsize=65_536)(normalize)


def _make_name(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.45:
        return f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} {rng.choice(_KINDS)}"
    if roll < 0.65:
        return f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"
    if roll < 0.85:
        return f"{rng.choice(_PLACES)} {rng.choice(_NOUNS + _KINDS)}"
    return f"{rng.choice(_KINDS)} of the {rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"


@lru_cache(maxsize=64)
def _universe(topic: str, size: int | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(names, their normalized forms), most popular first."""
    rng = random.Random(topic_hash(topic))
    n = size if size is not None else rng.randint(_UNIVERSE_MIN, _UNIVERSE_MAX)
    names: list[str] = []
    keys: list[str] = []
    seen: set[str] = set()
    attempts = 0
    while len(names) < n:
        attempts += 1
        name = _make_name(rng)
        if attempts > 50 * n:  # word lists exhausted: number the names apart
            name = f"{name} {attempts}"
        key = normalize(name)
        if key not in seen:
            seen.add(key)
            names.append(name)
            keys.append(key)
    return tuple(names), tuple(keys)


def _partition_matches(partition: str, names: tuple[str, ...]) -> list[bool]:
    """Which items fit the partition (see the module docstring)."""
    if m := _LETTER_RANGE.match(partition):
        low, high = sorted((m.group(1).upper(), m.group(2).upper()))
        return [low <= name[:1].upper() <= high for name in names]
    if m := _SINGLE_LETTER.match(partition):
        letter = m.group(1).upper()
        return [name[:1].upper() == letter for name in names]
    stems = [w.casefold().rstrip("s") for w in _WORD.findall(partition) if len(w) >= 3]
    stems = [s for s in stems if s]
    if not stems:
        return [False] * len(names)
    return [
        any(w.casefold().startswith(stem) for w in _WORD.findall(name) for stem in stems)
        for name in names
    ]


class SimulatedModel:
    MODEL_NAME = "sim-zipf-1"

    def __init__(
        self,
        *,
        profile: str = DEFAULT_PROFILE,
        universe_size: int | None = None,
        zipf_exponent: float = 1.05,
        avoid_obedience: float | None = None,
        partition_boost: float | None = None,
        partition_obedience: float | None = None,
        noise: float = 0.15,
        realism: float = 1.0,
    ) -> None:
        """``profile`` (``PROFILES``) sets the obedience; explicit values override it."""
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}; choose one of: {', '.join(PROFILES)}")
        if universe_size is not None and universe_size < 1:
            raise ValueError("universe_size must be at least 1")
        base = PROFILES[profile]
        self.profile = profile
        self.model_name = base.model_name
        self.universe_size = universe_size
        self.zipf_exponent = zipf_exponent
        self.avoid_obedience = base.avoid_obedience if avoid_obedience is None else avoid_obedience
        self.partition_boost = base.partition_boost if partition_boost is None else partition_boost
        self.partition_obedience = (
            base.partition_obedience if partition_obedience is None else partition_obedience
        )
        if self.partition_boost <= 0:
            raise ValueError("partition_boost must be positive")
        self.noise = noise
        if realism < 0:
            raise ValueError("realism must be at least 0")
        self.realism = realism
        self._inverse_weights: dict[str, list[float]] = {}
        self._partition_cache: dict[tuple[str, str], list[float]] = {}
        self._fits_cache: dict[tuple[str, str], list[bool]] = {}

    # --------------------------------------------------------------- universe
    def universe(self, topic: str) -> list[str]:
        """The topic's items, most popular first (deterministic across processes)."""
        return list(_universe(topic, self.universe_size)[0])

    def popularity(self, topic: str) -> list[float]:
        """Per-item probabilities: Zipf ``1/(rank+1)**s``, normalized to sum to 1."""
        n = len(_universe(topic, self.universe_size)[0])
        weights = [(i + 1) ** -self.zipf_exponent for i in range(n)]
        total = math.fsum(weights)
        return [w / total for w in weights]

    def _inverse(self, topic: str, partition: str | None) -> list[float]:
        """``1/weight`` per item, with the partition's boost applied."""
        base = self._inverse_weights.get(topic)
        if base is None:
            n = len(_universe(topic, self.universe_size)[0])
            base = [(i + 1) ** self.zipf_exponent for i in range(n)]
            self._inverse_weights[topic] = base
        if not partition or self.partition_boost == 1.0:
            return base
        cached = self._partition_cache.get((topic, partition))
        if cached is None:
            fits = self._fits(topic, partition)
            boost = self.partition_boost
            cached = [w / boost if fit else w for w, fit in zip(base, fits, strict=True)]
            if len(self._partition_cache) > 256:
                self._partition_cache.clear()
            self._partition_cache[(topic, partition)] = cached
        return cached

    def _fits(self, topic: str, partition: str) -> list[bool]:
        cached = self._fits_cache.get((topic, partition))
        if cached is None:
            cached = _partition_matches(partition, _universe(topic, self.universe_size)[0])
            if len(self._fits_cache) > 256:
                self._fits_cache.clear()
            self._fits_cache[(topic, partition)] = cached
        return cached

    # --------------------------------------------------------------- sampling
    def _draw(self, request: PromptRequest, rng: random.Random) -> list[str]:
        names, keys = _universe(request.topic, self.universe_size)
        inverse = self._inverse(request.topic, request.partition)
        expo = rng.expovariate
        # Successive sampling without replacement: the k smallest E_i / w_i.
        scores = [expo(1.0) * inv for inv in inverse]
        order = sorted(range(len(scores)), key=scores.__getitem__)
        avoid = {_normalize_cached(item) for item in request.avoid}
        if request.partition and self.partition_obedience > 0:
            return self._draw_focused(request, order, avoid, rng)
        chosen: list[str] = []
        for i in order:
            if len(chosen) >= request.count:
                break
            if avoid and keys[i] in avoid and rng.random() < self.avoid_obedience:
                continue
            chosen.append(names[i])
        return chosen

    def _draw_focused(
        self, request: PromptRequest, order: list[int], avoid: set[str], rng: random.Random
    ) -> list[str]:
        """Partition obedience: each line is off the focus with probability
        ``1 - partition_obedience``; off-focus items pad the answer once the focus is
        exhausted. Both streams keep the draw order and skip avoided items as usual."""
        names, keys = _universe(request.topic, self.universe_size)
        assert request.partition is not None
        fits = self._fits(request.topic, request.partition)
        focus: list[str] = []
        other: list[str] = []
        for i in order:
            if len(focus) >= request.count and len(other) >= request.count:
                break
            if avoid and keys[i] in avoid and rng.random() < self.avoid_obedience:
                continue
            (focus if fits[i] else other).append(names[i])
        chosen: list[str] = []
        f = o = 0
        slip = 1.0 - self.partition_obedience
        while len(chosen) < request.count and (f < len(focus) or o < len(other)):
            if f < len(focus) and (o >= len(other) or rng.random() >= slip):
                chosen.append(focus[f])
                f += 1
            else:
                chosen.append(other[o])
                o += 1
        return chosen

    # ------------------------------------------------------------- sub-topics
    def subtopics(self, request: SubtopicsRequest) -> list[str]:
        """The sub-topic labels this profile proposes (before the answer's noise)."""
        names = _universe(request.topic, self.universe_size)[0]
        taken = {_stem(w) for label in request.exclude for w in _WORD.findall(label)}
        taken_labels = {" ".join(label.split()).casefold() for label in request.exclude}
        words = [w for w in _vocabulary(names) if _stem(w) not in taken]
        count = max(1, request.count)
        if self.profile == "weak":
            concrete = [_plural(w) for w in words[: (count + 1) // 2]]
            vague = [v for v in _VAGUE_SUBTOPICS if v.casefold() not in taken_labels]
            return (concrete + vague)[:count]
        pairs = words[: 2 * count]
        half = (len(pairs) + 1) // 2
        labels = []
        for i in range(half):
            j = len(pairs) - 1 - i
            if j > i:
                labels.append(f"{_plural(pairs[i])} and {_plural(pairs[j]).lower()}")
            else:
                labels.append(_plural(pairs[i]))
        return labels

    def _complete_subtopics(
        self, prompt: str, request: SubtopicsRequest, seed: int
    ) -> SimulatedCompletion:
        rng = random.Random(seed ^ topic_hash(request.topic))
        labels = self.subtopics(request)
        text = _dress(labels, rng, request.topic) if labels else rng.choice(_CLOSINGS)
        return self._completion(prompt, text)

    def _completion(self, prompt: str, text: str) -> SimulatedCompletion:
        """The answer with its token counts: a token is ~4 characters, both ways."""
        return SimulatedCompletion(
            text=text,
            input_tokens=max(1, len(prompt) // 4),
            output_tokens=max(1, len(text) // 4),
            finish_reason="stop",
            model=self.model_name,
        )

    def _variant(self, item: str, rng: random.Random) -> str:
        if rng.random() >= self.noise:
            return item
        kind = rng.randrange(4)
        if kind == 0:
            return item.lower()
        if kind == 1:
            return item.upper()
        if kind == 2:
            return item + "."
        return f'"{item}"'

    def complete(self, prompt: str, seed: int) -> SimulatedCompletion:
        """The model's answer to ``prompt``; a pure function of ``(prompt, seed)``."""
        subtopics = parse_subtopics_prompt(prompt)
        if subtopics is not None:
            return self._complete_subtopics(prompt, subtopics, seed)
        request = parse_prompt(prompt)
        rng = random.Random(seed ^ topic_hash(request.topic))
        items = [self._variant(item, rng) for item in self._draw(request, rng)]
        if self.realism > 0:
            return self._completion(prompt, _dress_answer(items, rng, request, self.realism))
        return self._completion(prompt, _dress(items, rng, request.topic))
