"""Realistic noise around the fake model's items, each line labelled by the parser contract.

Real models (SmolLM2 on this machine, the hosted ones) wrap their lists in
preambles and closers, number or bullet them, bold them, add remarks
(``X (remark)``, ``X - description``), put several items on a line, answer
in markdown tables with headings, echo the prompt and the partition label,
write sentences and drift off topic. Each *kind* below imitates one such
behaviour and says what the contract in docs/tracing.md ("Real output: which
lines are items") makes of the line: noise, or the item(s) with the display
form the parser must give. The oracle reads those labels from the ledger.

Kinds are switched on one by one (``NoiseConfig.kinds``), so a scenario can
choose; ``BASIC`` are those a parser that only strips markers, quotes, bold
and chat openers already handles, ``CONTRACT`` needs the full contract
(remarks, multi-item lines, tables, echoes, headings, sentences...), and
the shapes issue 22 found in SmolLM2's answers: long comma lists, inline
numbering, bracketed lists and columns (rule 5), leaks around an item
(labels, HTML, URLs, template tokens, partition labels: rule 1),
paraphrased echoes of the prompt and role words (rule 2), long prose.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tester.fake_llm.ledger import Candidate, Line

#: a variant or a decoration of one item line (the item stays the candidate)
ITEM_KINDS = ("case", "numbering", "bullets", "bold", "quotes", "article", "remark", "dash",
              "colon_desc", "letter_label", "hash_number", "html", "url", "template_leak",
              "range_label")  # fmt: skip
#: whole lines of noise, or lines of several items
LINE_KINDS = ("preamble", "closer", "blank", "fence", "section", "off_topic", "repeat",
              "letter_range", "multi", "pair",
              "table", "heading", "echo_prompt", "echo_partition", "sentence", "numbers",
              "rule", "long_list", "inline_numbers", "bracketed", "columns", "long_prose",
              "echo_paraphrase", "role_word")  # fmt: skip
ALL_KINDS = frozenset(ITEM_KINDS + LINE_KINDS)
BASIC = frozenset({"case", "numbering", "bullets", "bold", "quotes", "preamble", "closer",
                   "blank", "fence", "section", "off_topic", "rule", "repeat"})  # fmt: skip
#: kinds whose reading the contract changed or left open: only when named. ``pair``: a
#: two-part ``A and B`` / ``A & B`` line, labelled split (docs/tracing.md rule 5 as first
#: written); the parser keeps it whole, and the contract now says so (a name such as
#: "Marks & Spencer" has that shape too)
DISPUTED = frozenset({"pair"})
CONTRACT = ALL_KINDS - BASIC - DISPUTED

_PREAMBLES = ("Here are {n} {topic}:", "Sure! Here is a list of {topic}:",
              "Certainly, here are some {topic}:", "Here are some more items:")  # fmt: skip
_CLOSERS = ("I hope this helps!", "Let me know if you need more.",
            "Feel free to ask for more items.", "Note: some of these may overlap.")  # fmt: skip
_SECTIONS = ("**Landmarks:**", "Popular choices:", "**Lesser-known places:**", "Others:")
_HEADINGS = ("## Landmarks", "### More places", "# List", "## Hidden gems")
_REMARKS = ("(popular with visitors)", "(a local favourite)", "(recently restored)", "(free)")
_DESCRIPTIONS = ("a quiet place", "great at sunset", "worth a visit", "very old")
_SENTENCES = (
    "Many of these places are very popular with tourists in the summer months.",
    "These are some of the best known ones.",
    "Each of them is worth seeing at least once in your life if you can.",
    # no closing stop and no is/are/was/were: only the 10-word rule says it is no item
    "Most of them can be visited for free on the first Sunday",
    "You can reach all of them easily by public transport from the centre",
)
_NUMBERS = ("2024", "1889 - 1901", "42", "3.5", "---- 12 ----")
_RULES = ("---", "***", "* * *")
#: a long line that is prose, not a list (over 200 characters): noise by rule 2
_LONG_PROSE = (
    "All of the places on this list are among the most visited in the whole city, and many "
    "of them can be reached on foot from one another in a single afternoon, so a visitor who "
    "plans well can see several of them in one day without any hurry at all."
)
#: the instruction, paraphrased as small models do (rule 2's phrases)
_PARAPHRASES = ("No numbering or commentary", "No numbering, no commentary.", "One per line",
                "As exhaustively as possible:", "Distinct items")  # fmt: skip
_TEMPLATE_LEAKS = ("<start_of_turn>model", "<|im_end|>", "<|im_start|>assistant", "</s>")
#: items of other topics a model drifts to: items all the same, by the contract
OFF_TOPIC = ("Mount Kilimanjaro", "Lake Baikal", "Sahara Desert", "Great Barrier Reef",
             "Niagara Falls", "Table Mountain", "Ha Long Bay", "Angel Falls")  # fmt: skip


@dataclass(frozen=True)
class NoiseConfig:
    """Which kinds are on and how often they strike (per item line / per answer)."""

    kinds: frozenset[str] = BASIC
    rate: float = 0.25  # share of item lines decorated, and of answers with each line kind

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - ALL_KINDS
        if unknown:
            raise ValueError(f"unknown noise kind(s) {sorted(unknown)}; kinds: {sorted(ALL_KINDS)}")
        if not 0 <= self.rate <= 1:
            raise ValueError("noise rate must be within 0..1")

    @classmethod
    def parse(cls, text: str, rate: float = 0.25) -> NoiseConfig:
        """``basic``, ``contract``, ``all`` (not the disputed kinds), ``none`` or a comma list
        of kinds (mixable: ``all,pair``)."""
        kinds: set[str] = set()
        for word in (w.strip() for w in text.split(",")):
            if not word or word == "none":
                continue
            kinds |= {"basic": BASIC, "contract": CONTRACT, "all": ALL_KINDS - DISPUTED}.get(
                word, {word}
            )
        return cls(frozenset(kinds), rate)


@dataclass
class Asked:
    topic: str
    count: int
    partition: str | None = None
    avoid: list[str] = field(default_factory=list)


def _item(name: str, kind: str, text: str, display: str | None = None) -> Line:
    return Line(text, "item", kind, [Candidate(name, name if display is None else display)])


def _noise(kind: str, text: str) -> Line:
    return Line(text, "noise", kind)


def _decorate(name: str, kind: str, rng: random.Random) -> Line:
    """One item line with one item-kind behaviour; the display is what the contract keeps."""
    if kind == "case":
        variant = rng.choice((name.upper(), name.lower()))
        return _item(name, kind, variant, variant)
    if kind == "numbering":
        return _item(name, kind, f"{rng.randint(1, 99)}{rng.choice('.)')} {name}")
    if kind == "bullets":
        return _item(name, kind, f"{rng.choice('-*•')} {name}")
    if kind == "bold":
        return _item(name, kind, rng.choice((f"**{name}**", f"- **{name}**", f"1. **{name}**")))
    if kind == "quotes":
        return _item(name, kind, f'"{name}"')
    if kind == "article":
        variant = f"The {name}"
        return _item(name, kind, variant, variant)
    if kind == "remark":
        return _item(name, kind, f"{name} {rng.choice(_REMARKS)}")
    if kind == "dash":
        return _item(
            name, kind, f"{name} {rng.choice(('-', '–', '—'))} {rng.choice(_DESCRIPTIONS)}"
        )
    if kind == "colon_desc":
        return _item(name, kind, f"**{name}**: {rng.choice(_DESCRIPTIONS)}", name)
    if kind == "letter_label":
        return _item(name, kind, f"{rng.choice(('D)', '(b)', 'c.', 'a)'))} {name}")
    if kind == "hash_number":
        return _item(name, kind, f"#{rng.randint(1, 30)}{rng.choice('.)')} {name}")
    if kind == "html":
        return _item(name, kind, rng.choice((f"<b>{name}</b>", f"<li>{name}</li>",
                                             f"{name}<br>", f"<p>{name}</p>")))  # fmt: skip
    if kind == "url":
        slug = name.replace(" ", "_")
        return _item(name, kind, rng.choice((f"{name} (https://example.org/wiki/{slug})",
                                             f"[{name}](https://example.org/{slug})")))  # fmt: skip
    if kind == "template_leak":
        return _item(name, kind, f"{name}{rng.choice(_TEMPLATE_LEAKS)}")
    if kind == "range_label":
        return _item(name, kind, rng.choice((f"{name} (A-L)", f"{name} (M-Z-A-L-...)",
                                             f"(C-F) {rng.randint(1, 30)}. {name}")))  # fmt: skip
    raise ValueError(kind)


def _table(names: Sequence[str]) -> list[Line]:
    rows = [_noise("table", "| # | Name |"), _noise("table", "|---|------|")]
    rows += [_item(name, "table", f"| {i} | {name} |") for i, name in enumerate(names, 1)]
    # a blank line closes the table: system/producer/parse.py reads a '---' rule right under a
    # row as a separator, so the row above would become a header (the contract's rule 3 is
    # about `|---|` rows; that ambiguity is reported, not exercised)
    return [*rows, _noise("blank", "")]


def _multi(names: Sequence[str], rng: random.Random) -> Line:
    if len(names) == 2:
        text = f"{names[0]} {rng.choice(('and', '&'))} {names[1]}"
    else:
        text = rng.choice((", ".join(names), "; ".join(names),
                           ", ".join(names[:-1]) + " and " + names[-1]))  # fmt: skip
    if len(text.split()) >= 10:  # the contract's sentence rule comes first: the line is dropped
        return Line(text, "noise", "multi_sentence")
    return Line(text, "item", "multi", [Candidate(n, n) for n in names])


def _list_line(kind: str, names: Sequence[str], rng: random.Random) -> Line:
    """Several items on one line in one of the list shapes of rule 5."""
    if kind == "long_list":  # one long comma list, as SmolLM2 writes a whole answer
        text = f"{rng.randint(1, 9)}. " + ", ".join(names) + rng.choice(("", ", ...", ", etc."))
    elif kind == "inline_numbers":
        start = rng.randint(1, 20)
        text = "  ".join(f"{start + i}. {n}" for i, n in enumerate(names))
    elif kind == "bracketed":
        text = rng.choice(
            ("[" + ", ".join(names) + "]", "[" + ", ".join(f'"{n}"' for n in names) + "]")
        )
    else:  # columns
        text = rng.choice(("   ", "    ")).join(names)
    return Line(text, "item", kind, [Candidate(n, n) for n in names])


def _echoes(asked: Asked, prompt_lines: Sequence[str], rng: random.Random) -> list[Line]:
    lines = [line for line in prompt_lines if line.strip() and not line.startswith("- ")]
    if not lines:
        return []
    return [_noise("echo_prompt", rng.choice(lines))]


def answer_lines(
    asked: Asked,
    names: Sequence[str],
    prompt_lines: Sequence[str],
    config: NoiseConfig,
    rng: random.Random,
) -> list[Line]:
    """The labelled lines of one answer listing ``names`` (distinct items, in order)."""
    on = config.kinds
    rate = config.rate

    def strikes(kind: str) -> bool:
        return kind in on and rng.random() < rate

    body: list[list[Line]] = []  # blocks: a table stays whole, noise goes between blocks
    item_kinds = [k for k in ITEM_KINDS if k in on]
    queue = list(names)
    if queue and strikes("table"):
        take = min(len(queue), rng.randint(2, 6))
        body.append(_table(queue[:take]))
        queue = queue[take:]
    while queue:
        if "multi" in on and len(queue) >= 3 and rng.random() < rate / 4:
            # three short names (under 10 words with the joiners): how a list line with 10
            # words or more is read changed with the contract (a sentence, then a list)
            short = sorted(queue, key=lambda x: len(x.split()))[:3]
            if sum(len(x.split()) for x in short) + 1 < 10:
                body.append([_multi(short, rng)])
                queue = [x for x in queue if x not in short]
                continue
        shapes = [k for k in ("long_list", "inline_numbers", "bracketed", "columns") if k in on]
        if sum(len(n) + 2 for n in queue) <= 200 and "long_list" in shapes:
            shapes.remove("long_list")  # a long list is one over 200 characters
        if shapes and len(queue) >= 3 and rng.random() < rate / 4:
            shape: str = rng.choice(shapes)
            # a long list runs past 200 characters; the others hold 3 to 5 names
            take = len(queue) if shape == "long_list" else rng.randint(3, 5)
            body.append([_list_line(shape, queue[:take], rng)])
            queue = queue[take:]
            continue
        if "pair" in on and len(queue) >= 2 and rng.random() < rate / 4:
            pair = _multi(queue[:2], rng)
            pair.kind = "pair"
            body.append([pair])
            queue = queue[2:]
            continue
        name = queue.pop(0)
        if item_kinds and rng.random() < rate:
            body.append([_decorate(name, rng.choice(item_kinds), rng)])
        else:
            body.append([_item(name, "plain", name)])
    if strikes("repeat") and names:
        # small models repeat an item in the same answer (SmolLM2: 20 times "Bianco di ...")
        again = rng.choice(names)
        body.insert(rng.randint(0, len(body)), [_item(again, "repeat", again)])
    if strikes("off_topic"):
        stray = rng.choice(OFF_TOPIC)
        body.insert(rng.randint(0, len(body)), [_item(stray, "off_topic", stray)])
    inserts: list[tuple[str, Callable[[], list[Line]]]] = [
        ("blank", lambda: [_noise("blank", "")]),
        ("section", lambda: [_noise("section", rng.choice(_SECTIONS))]),
        ("heading", lambda: [_noise("heading", rng.choice(_HEADINGS))]),
        ("sentence", lambda: [_noise("sentence", rng.choice(_SENTENCES))]),
        ("numbers", lambda: [_noise("numbers", rng.choice(_NUMBERS))]),
        ("letter_range", lambda: _letter_ranges(rng)),
        ("rule", lambda: [_noise("rule", rng.choice(_RULES))]),
        ("long_prose", lambda: [_noise("long_prose", _LONG_PROSE)]),
        ("echo_paraphrase", lambda: [_noise("echo_paraphrase", rng.choice(_PARAPHRASES))]),
        ("role_word", lambda: [_noise("role_word", rng.choice(("model", "assistant")))]),
        ("echo_prompt", lambda: _echoes(asked, prompt_lines, rng)),
        ("echo_partition", lambda: _partition_echo(asked, rng)),
    ]
    for kind, make in inserts:
        if strikes(kind):
            body.insert(rng.randint(0, len(body)), make())
    head: list[Line] = []
    if strikes("preamble"):
        text = rng.choice(_PREAMBLES).format(n=len(names), topic=asked.topic.lower())
        head.append(_noise("preamble", text))
    if strikes("fence"):
        head.append(_noise("fence", "```"))
        body.append([_noise("fence", "```")])
    tail: list[Line] = []
    if strikes("closer"):
        tail = (
            [_noise("blank", ""), _noise("closer", rng.choice(_CLOSERS))]
            if ("blank" in on)
            else [_noise("closer", rng.choice(_CLOSERS))]
        )
    return head + [line for block in body for line in block] + tail


def _partition_echo(asked: Asked, rng: random.Random) -> list[Line]:
    if not asked.partition:
        return [_noise("echo_partition", rng.choice((asked.topic, f"1. {asked.topic}")))]
    label = asked.partition
    forms = (label, f"**{label}**", f"{label}:", f"2. {label}")
    return [_noise("echo_partition", rng.choice(forms))]


def _letter_ranges(rng: random.Random) -> list[Line]:
    """Asked for a letter range, small models list letter ranges (``1. A-B``, ``C – E``)."""
    pairs = [("A", "B"), ("C", "E"), ("F", "H"), ("K", "M"), ("P", "S")]
    chosen = rng.sample(pairs, rng.randint(1, 3))
    forms = ("{i}. {a}-{b}", "{a} – {b}", "{a} to {b}", "- {a}-{b}")
    return [
        _noise("letter_range", rng.choice(forms).format(i=i, a=a, b=b))
        for i, (a, b) in enumerate(chosen, 1)
    ]
