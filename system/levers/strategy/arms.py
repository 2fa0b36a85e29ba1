"""The adaptive strategy's arms: what a prompt carries and how it is sampled.

An arm is a named recipe for one request, shared by the orchestrator (which
measures arms and assigns them, ``system.levers.strategy.selector``) and the
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
where that measures more new items per token. ``rare`` is opt-in
(``--arms``): on the real small model it was not measurably better than
``plain``, and each arm in the default set costs exploration requests.
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
    #: among the arms the strategy uses without --arms
    default: bool = True

    @property
    def cheap(self) -> bool:
        """No avoid list and no partition: the prompt costs what the plain one costs."""
        return not self.avoid and not self.focus


ARMS: dict[str, Arm] = {
    arm.name: arm
    for arm in (
        Arm("plain"),
        Arm("hot", temperature_delta=0.3),
        # opt-in (--arms): not measurably better on the real small model (US states:
        # its first ~15 answers were mostly non-members, then 30 valid in 20 requests,
        # about what plain finds by then), and every arm in the default set costs
        # exploration requests (benchmarks/levers_real)
        Arm("rare", style="rare", default=False),
        Arm("avoid", avoid=True),
        Arm("focus", focus=True),
        Arm("avoid_focus", avoid=True, focus=True),
    )
}
DEFAULT_ARM = "plain"


def arms_for(*, shared_state: bool, partitions: bool, opt_in: bool = False) -> list[str]:
    """The arms a run's levers allow (an avoid arm needs shared state, a focus arm
    partitions); the opt-in ones (``rare``) only with ``opt_in`` (named by --arms)."""
    return [
        name
        for name, arm in ARMS.items()
        if (shared_state or not arm.avoid)
        and (partitions or not arm.focus)
        and (opt_in or arm.default)
    ]


def legacy_arm(*, shared_state: bool, partitions: bool) -> Arm:
    """Without the adaptive strategy: every lever that is on is used on every request."""
    return Arm("fixed", avoid=shared_state, focus=partitions)
