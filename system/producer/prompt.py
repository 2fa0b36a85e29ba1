"""The prompt a producer sends. The simulated model reads this same text.

Format (one item per line; the bracketed lines only when given)::

    You are enumerating every distinct item of a topic, as exhaustively as possible.
    Topic: <topic>
    [Focus on this part of the topic: <partition>]
    List <count> distinct items, one per line, with no numbering and no commentary.
    [Do not repeat any of these already-found items:
    - <item>
    - <item>]

The ``rare`` style (the adaptive strategy's verbalized-sampling arm) replaces
the ``List`` line with one asking for the less typical items, those with a
low probability of being named; it still starts with ``List <count>
distinct items`` so that parsers and simulators read the count the same way::

    List <count> distinct items, only less typical ones: skip the most obvious ...

The sub-topic prompt (``--partition-by subtopics``)::

    You are dividing a topic into parts that can each be enumerated on their own.
    Topic: <topic>
    Propose <count> short, distinct, non-overlapping sub-topics of this topic, one per line, ...
    [These sub-topics are already taken; propose different ones:
    - <label>]

Line breaks and whitespace runs inside the topic, the partition and the
avoided items are collapsed to single spaces so that every value stays on
its own line; avoided items that are empty after that are left out.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "AVOID_HEADER",
    "FOCUS_PREFIX",
    "INTRO",
    "RARE_LINE",
    "SUBTOPICS_EXCLUDE_HEADER",
    "SUBTOPICS_INTRO",
    "TOPIC_PREFIX",
    "build_prompt",
    "build_subtopics_prompt",
]

INTRO = "You are enumerating every distinct item of a topic, as exhaustively as possible."
TOPIC_PREFIX = "Topic: "
FOCUS_PREFIX = "Focus on this part of the topic: "
AVOID_HEADER = "Do not repeat any of these already-found items:"
RARE_LINE = (
    "List {count} distinct items, only less typical ones: skip the most obvious items and "
    "name those a list of this topic would mention with low probability, one per line, "
    "with no numbering and no commentary."
)
SUBTOPICS_INTRO = "You are dividing a topic into parts that can each be enumerated on their own."
SUBTOPICS_EXCLUDE_HEADER = "These sub-topics are already taken; propose different ones:"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def build_prompt(
    topic: str,
    count: int,
    avoid: Sequence[str] = (),
    partition: str | None = None,
    *,
    style: str = "plain",
) -> str:
    """The prompt asking for ``count`` more items of ``topic`` (``style``: plain | rare)."""
    lines = [INTRO, f"{TOPIC_PREFIX}{_one_line(topic)}"]
    if partition is not None and _one_line(partition):
        lines.append(f"{FOCUS_PREFIX}{_one_line(partition)}")
    if style == "rare":
        lines.append(RARE_LINE.format(count=count))
    else:
        lines.append(
            f"List {count} distinct items, one per line, with no numbering and no commentary."
        )
    avoided = [item for item in map(_one_line, avoid) if item]
    if avoided:
        lines.append(AVOID_HEADER)
        lines.extend(f"- {item}" for item in avoided)
    return "\n".join(lines)


def build_subtopics_prompt(topic: str, count: int, exclude: Sequence[str] = ()) -> str:
    """The prompt asking for ``count`` sub-topics of ``topic``, none of ``exclude``."""
    lines = [
        SUBTOPICS_INTRO,
        f"{TOPIC_PREFIX}{_one_line(topic)}",
        f"Propose {count} short, distinct, non-overlapping sub-topics of this topic, one per "
        "line, each a few words naming a kind of item, together covering as much of the "
        "topic as possible, with no numbering and no commentary.",
    ]
    taken = [label for label in map(_one_line, exclude) if label]
    if taken:
        lines.append(SUBTOPICS_EXCLUDE_HEADER)
        lines.extend(f"- {label}" for label in taken)
    return "\n".join(lines)
