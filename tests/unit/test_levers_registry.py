"""The lever registry and protocol hold: every registered lever is a ``Lever`` that
``Discovery`` builds when its switch is on, and whose summary reaches run.json."""

from __future__ import annotations

import inspect
import subprocess
import sys
from typing import Any

import pytest

from system.dedup.index import DedupIndex
from system.levers.base import BatchEffects, Lever, LeverRun
from system.levers.registry import LEVERS
from system.orchestrator import discovery as discovery_module
from system.orchestrator.config import LeverConfig
from system.orchestrator.discovery import Discovery
from system.protocol import AttributeBatch, UpdateConfiguration

#: every switch on (sub-topics, near-duplicates, saturation, adaptive)
ALL_ON = LeverConfig(partition_by="subtopics", near_duplicates=True, saturation=0.02)
HOOKS = ("seed", "settings", "on_batch", "on_connected", "on_disconnected", "on_saturated")


def _batch(candidates: list[str], **extra: Any) -> AttributeBatch:
    return AttributeBatch(
        producer_id=1, seq=1, candidates=candidates, provider="test", model="m", **extra
    )


def test_every_registered_lever_implements_the_protocol() -> None:
    names = [cls.name for cls in LEVERS]
    assert len(set(names)) == len(names), names
    assert set(names) <= set(ALL_ON.enabled()) | {"shared_state"}
    for cls in LEVERS:
        assert issubclass(cls, Lever) and not inspect.isabstract(cls), cls
        assert "build" in cls.__dict__, f"{cls.__name__} must say when it is on"
        for hook in (*HOOKS, "summary"):
            base = inspect.signature(getattr(Lever, hook))
            assert inspect.signature(getattr(cls, hook)) == base, (cls.__name__, hook)


def test_with_every_switch_on_each_lever_is_built_and_its_summary_reaches_run_json() -> None:
    d = Discovery(ALL_ON, [1, 2], request_size=10, open_ended=True)
    assert [type(lever) for lever in d.active] == list(LEVERS)
    d.seed(["Alpha"])
    d.on_connected(1)
    d.on_batch(1, _batch(["Bravo", "Charlie"], prefiltered=1), ["Bravo", "Charlie"])
    summary = d.summary()  # TopicRun writes exactly this as run.json "levers"
    for lever in d.active:
        keys = set(lever.summary())
        assert keys and keys <= set(summary), (lever.name, keys)
    assert summary["generated"] == 3 and summary["prefiltered"] == 1


def test_a_lever_that_is_off_is_not_built() -> None:
    off = LeverConfig(partitions=False, adaptive=False, saturation=0.0)
    d = Discovery(off, [1], request_size=10, open_ended=True)
    built = {lever.name for lever in d.active}
    assert built == {"prefilter", "near_duplicates", "shared_state"}  # their counters stay
    assert set(d.summary()) == {
        "enabled", "generated", "prefiltered", "near_duplicates", "delta_pushes",
    }  # fmt: skip
    assert d.partitions is None and d.subtopics is None and d.strategy is None
    assert d.novelty is None


class _Echo(Lever):
    """A lever added by one registration: Discovery calls every hook of it."""

    name = "echo"

    def __init__(self) -> None:
        self.calls: list[str] = []

    @classmethod
    def build(cls, run: LeverRun) -> _Echo:
        return cls()

    def seed(self, lines: list[str]) -> None:
        self.calls.append("seed")

    def settings(self, producer_id: int, index: DedupIndex) -> Any:
        return {"echo": producer_id}

    def on_batch(self, producer_id: int, batch: AttributeBatch, new: list[str]) -> BatchEffects:
        self.calls.append("batch")
        return BatchEffects(
            updates=[(producer_id, UpdateConfiguration(strategy="plain"))],
            events=[("echo", {"new": len(new)})],
        )

    def on_disconnected(self, producer_id: int) -> BatchEffects:
        self.calls.append("gone")
        return BatchEffects(events=[("echo.gone", {})])

    def summary(self) -> dict[str, Any]:
        return {"echo": self.calls}


def test_adding_a_lever_is_one_registration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discovery_module, "LEVERS", (*LEVERS, _Echo))
    d = Discovery(LeverConfig(), [1, 2], request_size=10, open_ended=False)
    d.seed([])
    _, settings = d.start(2, DedupIndex())
    assert dict(settings)["echo"] == 2 and settings["prefilter"] is True
    effects = d.on_batch(1, _batch(["Delta"]), ["Delta"])
    assert ("echo", {"new": 1}) in effects.events
    assert (1, UpdateConfiguration(strategy="plain")) in effects.updates
    assert [e for e, _ in d.producer_gone(2).events] == ["echo.gone"]
    assert d.summary()["echo"] == ["seed", "batch", "gone"]


def test_a_producer_loads_only_the_levers_producer_side() -> None:
    """The registry (every lever's orchestrator side) stays out of producer start-up."""
    code = (
        "import sys, system.producer.cli, system.producer.worker\n"
        "print(' '.join(m for m in sys.modules if m.startswith(('system.levers.registry',"
        " 'system.orchestrator', 'rapidfuzz'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == ""
