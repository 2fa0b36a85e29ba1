"""The adaptive strategy's arms: what a prompt carries and how it is sampled.

An arm is a named recipe for one request, shared by the orchestrator (which
measures arms and assigns them, ``system.orchestrator.strategy``) and the
producer (which builds its prompt and sampling from it):

* ``avoid``: the prompt carries the avoid list (its token budget);
* ``focus``: the prompt names the producer's partition (letter range or
  sub-topic);
* ``temperature_delta``: added to the provider's temperature (its
  ``temperature=``, or 1.0 when unset; at most 2);
* ``style``: ``plain`` asks for items; ``rare`` is a verbalized-sampling
  style prompt that asks for the less typical, less obvious items, those a
  model would give with low probability.

``plain`` is the cheapest arm (no avoid list, no partition, the configured
temperature): the strategy starts there and moves to a costlier arm only
where that measures more new items per token.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ARMS", "DEFAULT_ARM", "Arm", "arms_for", "legacy_arm"]


@dataclass(frozen=True)
class Arm:
    name: str
    avoid: bool = False
    focus: bool = False
    temperature_delta: float = 0.0
    style: str = "plain"  # plain | rare

    @property
    def cheap(self) -> bool:
        """No avoid list and no partition: the prompt costs what the plain one costs."""
        return not self.avoid and not self.focus


ARMS: dict[str, Arm] = {
    arm.name: arm
    for arm in (
        Arm("plain"),
        Arm("hot", temperature_delta=0.3),
        Arm("rare", style="rare"),
        Arm("avoid", avoid=True),
        Arm("focus", focus=True),
        Arm("avoid_focus", avoid=True, focus=True),
    )
}
DEFAULT_ARM = "plain"


def arms_for(*, shared_state: bool, partitions: bool) -> list[str]:
    """The arms a run's levers allow (an avoid arm needs shared state, a focus arm partitions)."""
    return [
        name
        for name, arm in ARMS.items()
        if (shared_state or not arm.avoid) and (partitions or not arm.focus)
    ]


def legacy_arm(*, shared_state: bool, partitions: bool) -> Arm:
    """Without the adaptive strategy: every lever that is on is used on every request."""
    return Arm("fixed", avoid=shared_state, focus=partitions)
