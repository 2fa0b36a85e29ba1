"""Scenarios the tester can run: ``python -m tester --scenario NAME``.

A scenario is a module with a docstring and ``run(ctx: ScenarioContext)``
that raises AssertionError (with evidence) when the system misbehaves.
"""

from __future__ import annotations

from types import ModuleType

from scenarios import basic, examples, orchestrator_restart, producer_kill

SCENARIOS: dict[str, ModuleType] = {
    "basic": basic,
    "examples": examples,
    "producer-kill": producer_kill,
    "orchestrator-restart": orchestrator_restart,
}


def describe(module: ModuleType) -> str:
    return (module.__doc__ or "").strip().splitlines()[0]
