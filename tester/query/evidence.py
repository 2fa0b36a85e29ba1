"""Render spans as an indented tree: the evidence printed with every failed assertion."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from tester.collector import Span
from tester.tracebacks import hide_harness_frames

# pytest shows none of this module's frames for a failed check (tester/tracebacks.py)
__tracebackhide__ = hide_harness_frames

_SKIP_ATTRS = {"topic.name", "run.id"}
#: a span's line in the evidence, before its indentation: readable in a terminal
MAX_LINE = 160
MAX_VALUE = 40


def _clip(text: str) -> str:
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 3] + "..."


def _fmt_value(value: Any) -> str:
    return _clip(repr(value) if isinstance(value, str) else str(value))


def describe_span(span: Span, *, attributes: bool = True) -> str:
    """One line: name, service, duration, status, exceptions, then the attributes that
    fit in ``MAX_LINE`` characters (the rest counted)."""
    parts = [f"{span.name} [{span.service_name}] {span.duration_ms:.1f}ms"]
    if span.status == "ERROR":
        parts.append(f"ERROR({_clip(span.status_message)})" if span.status_message else "ERROR")
    for event in span.events:
        if event.name == "exception":
            parts.append(
                f"exception {event.attributes.get('exception.type')}: "
                f"{_fmt_value(event.attributes.get('exception.message'))}"
            )
    line = "  ".join(parts)
    if not attributes:
        return line
    shown = [f"{k}={_fmt_value(v)}" for k, v in span.attributes.items() if k not in _SKIP_ATTRS]
    kept: list[str] = []
    for i, text in enumerate(shown):
        left = len(shown) - i  # this one included
        after = [f"(+{left - 1} more)"] if left > 1 else []  # room kept for the count
        if len(line) + 2 + len(" ".join([*kept, text, *after])) > MAX_LINE:
            kept.append(f"(+{left} more)")
            break
        kept.append(text)
    return f"{line}  {' '.join(kept)}" if kept else line


def span_tree(
    spans: Sequence[Span],
    *,
    highlight: Iterable[str] = (),
    limit: int = 80,
    collapse_after: int = 4,
) -> str:
    """Indented tree by parent id; long runs of same-named siblings are collapsed."""
    marked = set(highlight)
    by_id = {s.span_id: s for s in spans}
    children: dict[str | None, list[Span]] = {}
    for span in spans:
        parent = span.parent_span_id if span.parent_span_id in by_id else None
        children.setdefault(parent, []).append(span)
    for siblings in children.values():
        siblings.sort(key=lambda s: s.start_ns)
    lines: list[str] = []

    def walk(parent: str | None, depth: int) -> None:
        counts: dict[str, int] = {}
        hidden: dict[str, int] = {}
        for span in children.get(parent, []):
            counts[span.name] = counts.get(span.name, 0) + 1
            if (
                counts[span.name] > collapse_after
                and span.span_id not in marked
                and span.status != "ERROR"
            ):
                hidden[span.name] = hidden.get(span.name, 0) + 1
                continue
            if len(lines) >= limit:
                return
            mark = ">> " if span.span_id in marked else ""
            orphan = " (parent missing)" if depth == 0 and span.parent_span_id else ""
            lines.append("  " * depth + mark + describe_span(span) + orphan)
            walk(span.span_id, depth + 1)
        for name, n in hidden.items():
            lines.append("  " * depth + f"... {n} more {name}")

    walk(None, 0)
    if len(lines) >= limit:
        lines.append(f"... (tree cut at {limit} lines; {len(spans)} spans in all)")
    return "\n".join(lines)
