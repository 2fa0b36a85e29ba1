"""Finding the scenarios: every public module of the ``scenarios`` package with a ``run``.

The tester loads the scenario package by name at run time, the way pytest
loads test files, and never imports it statically: scenarios import the
tester (``ScenarioContext``, ``OrchestratorConfig``...), not the other way
round, so the two packages do not import each other in a circle. The
convention a scenario module follows is documented in
``scenarios/__init__.py``; this module only finds and orders them.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

#: the package holding the scenarios (a top-level package of this project)
SCENARIO_PACKAGE = "scenarios"


def discover(package: str = SCENARIO_PACKAGE) -> dict[str, ModuleType]:
    """Scenario name -> module, in the package's ``ORDER`` first, then by name.

    The name is the module name with ``-`` for ``_``; modules starting with
    ``_`` are helpers, and a module without a callable ``run`` is not a
    scenario.
    """
    root = importlib.import_module(package)
    found: dict[str, ModuleType] = {}
    for info in pkgutil.iter_modules(root.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        if callable(getattr(module, "run", None)):
            found[info.name.replace("_", "-")] = module
    order: tuple[str, ...] = tuple(getattr(root, "ORDER", ()))
    ranked = sorted(found, key=lambda n: (order.index(n) if n in order else len(order), n))
    return {name: found[name] for name in ranked}


def describe(module: ModuleType) -> str:
    """The first paragraph of the scenario's docstring, on one line (whole sentences:
    a docstring's first line often stops mid-sentence)."""
    first = (module.__doc__ or "").strip().split("\n\n", 1)[0]
    return " ".join(first.split())
