"""Scenarios the tester can run: ``python -m tester --scenario NAME``.

A scenario is a module in this package with a docstring and
``run(ctx: ScenarioContext)`` that raises AssertionError (with evidence) when
the system misbehaves. Its name is the module name with ``-`` for ``_``
(``producer_kill.py`` -> ``producer-kill``); modules starting with ``_`` are
helpers. Adding a file here is all it takes to add a scenario.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

ORDER = ("basic", "examples", "producer-kill", "orchestrator-restart")


def _discover() -> dict[str, ModuleType]:
    found: dict[str, ModuleType] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if callable(getattr(module, "run", None)):
            found[info.name.replace("_", "-")] = module
    ranked = sorted(found, key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))
    return {name: found[name] for name in ranked}


SCENARIOS: dict[str, ModuleType] = _discover()


def describe(module: ModuleType) -> str:
    return (module.__doc__ or "").strip().splitlines()[0]
