"""Loading truth sets: ``sets/<name>.json`` beside this module (or any path).

The file format (one JSON object)::

    {
      "name": "us-states",                      # what --set takes
      "topic": "US states",                     # the topic to run
      "topics": ["US states", "U.S. states"],   # topics this set judges (for_topic)
      "description": "...", "source": "...",    # what is in, what is out, and why
      "members": [["Georgia", "Georgia (U.S. state)"], ...],   # canonical name first
      "not_members": ["Washington, D.C.", ...]  # near misses the cuts must not turn into members
    }

Loading checks that no key (under ``match_key``) names two members, or a
member and a non-member: an ambiguous truth set would score by accident.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from tester.truth.match import match_key

SETS_DIR = Path(__file__).resolve().parent / "sets"


class TruthSetError(ValueError):
    """A truth set that does not exist or does not hold together."""


@dataclass(frozen=True)
class TruthSet:
    name: str
    topic: str
    members: tuple[tuple[str, ...], ...]  # canonical name first, then aliases
    not_members: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    description: str = ""
    source: str = ""
    index: dict[str, int] = field(default_factory=dict, compare=False, repr=False)
    excluded: frozenset[str] = field(default_factory=frozenset, compare=False, repr=False)

    @property
    def size(self) -> int:
        return len(self.members)

    def canonical(self, member: int) -> str:
        return self.members[member][0]

    def lookup(self, key: str) -> int | None:
        """The member a match key names, or None."""
        return self.index.get(key)

    def is_excluded(self, key: str) -> bool:
        return key in self.excluded


def _list(value: object, what: str, origin: str) -> list[object]:
    """A JSON list, or a clear error (a bare string would otherwise be split into letters)."""
    if not isinstance(value, list):
        raise TruthSetError(f"{origin}: {what} must be a list, not {type(value).__name__}")
    return value


def _strings(value: object, what: str, origin: str) -> tuple[str, ...]:
    return tuple(str(n) for n in _list(value, what, origin))


def _build(data: dict[str, object], origin: str) -> TruthSet:
    try:
        name, topic = str(data["name"]), str(data["topic"])
        raw_members = data["members"]
    except KeyError as exc:
        raise TruthSetError(f"{origin}: needs name, topic and members ({exc})") from None
    members = tuple(
        _strings(names, "each member", origin) for names in _list(raw_members, "members", origin)
    )
    if not members or any(not names for names in members):
        raise TruthSetError(f"{origin}: every member needs at least its canonical name")
    index: dict[str, int] = {}
    for i, names in enumerate(members):
        for alias in names:
            key = match_key(alias)
            if not key:
                raise TruthSetError(f"{origin}: {alias!r} has an empty match key")
            if index.get(key, i) != i:
                other = members[index[key]][0]
                raise TruthSetError(f"{origin}: {alias!r} names both {names[0]!r} and {other!r}")
            index[key] = i
    not_members = _strings(data.get("not_members", []), "not_members", origin)
    excluded = frozenset(match_key(n) for n in not_members)
    clash = sorted(excluded & index.keys())
    if clash:
        raise TruthSetError(f"{origin}: {clash} are both members and not_members")
    topics = _strings(data.get("topics", [topic]), "topics", origin)
    return TruthSet(
        name=name,
        topic=topic,
        members=members,
        not_members=not_members,
        topics=topics if topic in topics else (topic, *topics),
        description=str(data.get("description", "")),
        source=str(data.get("source", "")),
        index=index,
        excluded=excluded,
    )


def load(name_or_path: str | Path) -> TruthSet:
    """A shipped set by name (``us-states``) or a JSON file by path."""
    path = Path(name_or_path)
    if path.suffix != ".json":
        path = SETS_DIR / f"{name_or_path}.json"
    if not path.is_file():
        raise TruthSetError(
            f"no truth set {str(name_or_path)!r}; shipped: {', '.join(available())}"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise TruthSetError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise TruthSetError(f"{path}: not a JSON object")
    return _build(data, str(path))


def available() -> list[str]:
    """Names of the shipped truth sets."""
    return sorted(p.stem for p in SETS_DIR.glob("*.json"))


def for_topic(topic: str) -> TruthSet | None:
    """The shipped set that judges this topic (compared by match key), if any."""
    wanted = match_key(topic)
    for name in available():
        truth = load(name)
        if wanted in {match_key(t) for t in truth.topics}:
            return truth
    return None
