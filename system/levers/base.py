"""The lever protocol: what one efficiency lever may contribute to a topic run.

A lever is a ``Lever`` subclass registered in ``system.levers.registry.LEVERS``.
``Discovery`` (system/orchestrator/discovery.py) builds every registered
lever for a run and calls each one that is on, in registry order:

* ``build(run)`` (class method): the lever for this run, or None when the
  run's ``LeverConfig`` leaves it off. ``run.peer(cls)`` finds a lever
  registered before it (sub-topics drive the partitions);
* ``seed(lines)``: the attributes a resumed run starts with;
* ``settings(producer_id, index)``: its keys of the producer's
  ``StartTopic.settings["levers"]`` (``LeverSettings``);
* ``on_batch(producer_id, batch, new)``: its reaction to one deduplicated
  batch (``new``: the attributes it added to the run), as ``BatchEffects``:
  configuration updates for producers, events for the ``topic.run`` span,
  ``ProposeSubtopics`` requests to time out, and a stop reason;
* ``on_connected(producer_id)`` / ``on_disconnected(producer_id)``: a
  producer got its StartTopic / went away;
* ``on_saturated(detail)``: the run's novelty fell below the saturation
  threshold. A lever that can still widen the search answers with what it
  does instead of stopping (partitions: a last round on the whole topic);
  None lets the run stop;
* ``summary()``: its keys of run.json ``levers`` (read by ``TopicRun`` for
  the ``topic.run`` span's end attributes too).

Every hook but ``build`` has a do-nothing default, so a lever implements
only what it reacts to. What the producer applies lives in the same module
(or sub-package) as the orchestrator's side; the producer composes those
pieces in ``system.levers.producer.ProducerLevers``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from system.dedup.index import DedupIndex
from system.protocol import AttributeBatch, Message
from system.protocol.messages import LeverSettings

if TYPE_CHECKING:  # the producer imports levers without the orchestrator's config
    from system.orchestrator.config import LeverConfig

__all__ = ["BatchEffects", "Lever", "LeverRun", "generated"]

L = TypeVar("L", bound="Lever")


@dataclass
class BatchEffects:
    updates: list[tuple[int, Message]] = field(default_factory=list)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    #: ids of ProposeSubtopics requests just queued: the run times each out
    subtopic_requests: list[int] = field(default_factory=list)
    saturated: str | None = None  # the stop reason when the run is saturated

    def merge(self, other: BatchEffects) -> BatchEffects:
        """Append ``other``'s effects after these (the first stop reason wins)."""
        self.updates.extend(other.updates)
        self.events.extend(other.events)
        self.subtopic_requests.extend(other.subtopic_requests)
        self.saturated = self.saturated or other.saturated
        return self


def generated(batch: AttributeBatch) -> int:
    """Candidates the producer generated for a batch: sent plus pre-filtered."""
    return len(batch.candidates) + (batch.prefiltered or 0)


@dataclass
class LeverRun:
    """What a lever is built from: the run's lever configuration and shape."""

    config: LeverConfig
    producer_ids: list[int]
    request_size: int
    #: no --iterations: the run ends by itself (saturation may stop it)
    open_ended: bool
    #: the levers built so far, in registry order
    levers: list[Lever] = field(default_factory=list)

    @property
    def window(self) -> int:
        """Candidates in a novelty window."""
        return self.config.window_for(self.request_size)

    @property
    def avoid_on(self) -> bool:
        """Prompts carry an avoid list (shared state with a token budget)."""
        return self.config.shared_state and self.config.avoid_budget > 0

    def peer(self, cls: type[L]) -> L | None:
        """The built lever of class ``cls``, if it is on."""
        for lever in self.levers:
            if isinstance(lever, cls):
                return lever
        return None


class Lever(ABC):
    #: the lever's name, as ``LeverConfig.enabled()`` lists it
    name: ClassVar[str]

    @classmethod
    @abstractmethod
    def build(cls: type[L], run: LeverRun) -> L | None:
        """This lever for ``run``, or None when the run leaves it off."""

    def seed(self, lines: list[str]) -> None:  # noqa: B027 - optional hook
        """Attributes resumed from the file."""

    def settings(self, producer_id: int, index: DedupIndex) -> LeverSettings:
        """Its keys of a producer's ``StartTopic.settings["levers"]``."""
        return {}

    def on_batch(self, producer_id: int, batch: AttributeBatch, new: list[str]) -> BatchEffects:
        """Its reaction to one deduplicated batch (``new``: what it added to the run)."""
        return BatchEffects()

    def on_connected(self, producer_id: int) -> BatchEffects:
        """A producer got its StartTopic."""
        return BatchEffects()

    def on_disconnected(self, producer_id: int) -> BatchEffects:
        """A producer went away."""
        return BatchEffects()

    def on_saturated(self, detail: str) -> BatchEffects | None:
        """Novelty is below the threshold: what this lever does instead of stopping."""
        return None

    def summary(self) -> dict[str, Any]:
        """Its keys of run.json ``levers``."""
        return {}
