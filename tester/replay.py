"""``--replay ARTIFACT_DIR``: a scenario's checks on the traces and facts of an earlier run.

An artifacts folder written by ``python -m tester`` holds ``scenario.json`` (the
scenario's name and the facts its ``run`` recorded) and ``traces.otlp.json``
(every span the collector received). Replaying loads both into a
ScenarioContext without a collector and calls the scenario's ``check``: no
process is started.
"""

from __future__ import annotations

import json
from pathlib import Path

from tester.collector import SpanStore, spans_from_otlp_json
from tester.scenario import FACTS_FILE, ScenarioContext

TRACES_FILE = "traces.otlp.json"


class ReplayError(Exception):
    """The folder is not a replayable artifacts folder."""


def replay_dirs(folder: Path) -> list[Path]:
    """The folder itself when it holds a scenario.json, else its sub-folders that do
    (``--scenario all`` writes one per scenario)."""
    if (folder / FACTS_FILE).is_file():
        return [folder]
    found = sorted(p.parent for p in folder.glob(f"*/{FACTS_FILE}"))
    if not found:
        raise ReplayError(
            f"{folder} holds no {FACTS_FILE} (written by `python -m tester` for scenarios "
            "that define check(ctx))"
        )
    return found


def load_store(folder: Path) -> SpanStore:
    path = folder / TRACES_FILE
    if not path.is_file():
        raise ReplayError(f"{path} is missing")
    store = SpanStore()
    try:
        store.add(spans_from_otlp_json(path.read_bytes()))
    except ValueError as exc:
        raise ReplayError(f"{path} is not OTLP JSON: {exc}") from exc
    return store


def load_context(folder: Path) -> tuple[str, ScenarioContext]:
    """(scenario name, a replay context) for one artifacts folder."""
    try:
        data = json.loads((folder / FACTS_FILE).read_text(encoding="utf-8"))
        name, facts = str(data["scenario"]), dict(data.get("facts") or {})
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ReplayError(f"{folder / FACTS_FILE} is unreadable: {exc}") from exc
    ctx = ScenarioContext(None, folder, facts=facts, replay=True, span_store=load_store(folder))
    return name, ctx
