"""The prompt a producer sends. The simulated model reads this same text."""

from __future__ import annotations

from collections.abc import Sequence

AVOID_HEADER = "Do not repeat any of these already-found items:"


def build_prompt(
    topic: str, count: int, avoid: Sequence[str] = (), partition: str | None = None
) -> str:
    lines = [
        "You are enumerating every distinct item of a topic, as exhaustively as possible.",
        f"Topic: {topic}",
    ]
    if partition:
        lines.append(f"Focus on this part of the topic: {partition}")
    lines.append(f"List {count} distinct items, one per line, with no numbering and no commentary.")
    if avoid:
        lines.append(AVOID_HEADER)
        lines.extend(f"- {item}" for item in avoid)
    return "\n".join(lines)
