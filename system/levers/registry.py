"""The registry of efficiency levers: the ``Lever`` classes ``Discovery`` builds, in order.

Each lever holds both its sides: what the orchestrator decides (a ``Lever``,
``system.levers.base``) and what the producer applies. ``LEVERS`` is the
order ``Discovery`` builds them in and calls them in: a batch's effects (and
the keys of run.json ``levers``) follow it, and a lever may look up one
registered before it (``LeverRun.peer``). Adding a lever is one new module
and one line here (docs/ARCHITECTURE.md "Adding a lever"). The producer never
imports this module (it would load every lever's orchestrator side).

``provider_weights`` (``--adaptive-weights``) and the coverage stop rule
(``system.orchestrator.coverage``, ``--target-coverage``) are not registered:
``Steering`` (system/orchestrator/steering.py) drives them from the run's
tallies and sighting table, which no lever hook is given.
"""

from __future__ import annotations

from system.levers.base import Lever
from system.levers.near import NearDuplicatesLever
from system.levers.partitions.lever import PartitionsLever
from system.levers.prefilter import PrefilterLever
from system.levers.saturation import SaturationLever
from system.levers.shared_state import SharedStateLever
from system.levers.strategy.lever import StrategyLever
from system.levers.subtopics.lever import SubtopicsLever

__all__ = ["LEVERS"]

LEVERS: tuple[type[Lever], ...] = (
    PrefilterLever,
    NearDuplicatesLever,
    SharedStateLever,
    PartitionsLever,
    SubtopicsLever,  # after PartitionsLever: it adds their sub-topics
    StrategyLever,
    SaturationLever,  # last: saturated, it asks the others for a way on first
)
