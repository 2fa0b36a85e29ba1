"""Adaptive strategy: measure what each prompt arm yields per provider, shift producers.

An arm (``system.levers.strategy.arms``) is a recipe for a request: ``plain`` (no
avoid list, no partition), ``hot`` (temperature +0.3), ``rare`` (a
verbalized-sampling prompt asking for less typical items), ``avoid`` (the
avoid list), ``focus`` (the producer's partition), ``avoid_focus`` (both).
The run's levers decide which arms exist (no avoid arm without shared state,
no focus arm without partitions).

**Start cheap.** Every producer starts on ``plain``, the cheapest prompt,
and only the cheap arms (``plain``, ``hot``, ``rare``: no avoid list, no
partition) are explored at first. An arm that costs more (an avoid list is
input tokens, a partition narrows the answer) is explored only once the
provider's cheap arms are wearing out -- the best cheap arm's recent yield
has fallen below ``ESCALATE_AT`` of the best it had -- and used only where it
then measures more per token. Every ``every`` batches *of a provider* the
arms it may use are compared on that provider's latest batches, the best
gets every producer but one, which explores another arm (unmeasured arms
first). On the real small model, exploring the avoid list and partitions
from the start cost twice the tokens for the same valid items
(benchmarks/levers_real/README.md). Each provider has its own arms and decisions
(``UpdateConfiguration.arms``), because what a small local model does with a
prompt says nothing about what a large hosted one does with it.

**What is measured.** The system cannot tell a valid item from a
hallucination, so an arm's yield is a proxy: its new uniques, discounted by
the share of its answer lines that echo the prompt (instruction lines, the
partition label, avoided items: ``system.levers.strategy.obedience``; an echo the parser
keeps becomes a "new unique" that is not an item), per 1,000 tokens of cost
(input tokens priced at a quarter of output tokens, ``INPUT_PRICE_RATIO``).

**Dropping arms a model obeys badly.** Once an arm has ``MIN_EVIDENCE_BATCHES``
batches on a provider, it is dropped for that provider (never assigned
again, ``strategy.arm_dropped``) when its answers echo the prompt in
``ECHO_DROP_RATE`` of their lines or more (and clearly more than ``plain``
does: a model that always repeats "Topic:" is not worse on this arm), or,
for an arm naming a partition, when fewer than ``IN_PARTITION_DROP_RATE`` of
its candidates fit the partition. ``plain`` is never dropped.

**What is likely real.** A hallucination is as new as a real item, so where
the orchestrator tells the selector which keys each batch held
(``judge_by_sightings``, the strategy lever always does), an arm is scored
by its *confirmed* finds instead: the new items of its batches that a later
request (any producer, any provider, any arm) returned again. A real item
the model knows comes back; an invented one rarely does (on SmolLM2 the
precision of items seen twice or more was about double that of all items,
issue 22). A batch is scored only once it is ``MATURITY`` decision intervals
old (its finds had the time to be seen again), so every arm is judged with
the same delay; its confirmed finds, discounted by its echo share, per 1,000
tokens of cost are its yield. An arm that then loses to ``plain`` (its
yield under ``LOSES_TO_PLAIN`` of plain's, both with
``MIN_EVIDENCE_BATCHES`` scored batches in the same horizon) is dropped
for that provider like an arm obeyed badly: ``hot`` on a topic the model
barely knows, a partition arm whose items are invented, an avoid list that
costs more than it finds. The partition arms get no exemption.

Arms are compared on the same stretch of the run: a batch counts only while
it is among the provider's latest ``horizon`` batches (4 decision
intervals), since a topic's yield falls as it is enumerated whatever the
prompt. Once the best arm leads every other by ``DECISIVE_LEAD``, an
explorer is sent only every ``DECISIVE_EXPLORE_EVERY``-th decision.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from system.levers.strategy.arms import ARMS, DEFAULT_ARM

#: where a resumed run starts (StrategySelector.resume)
RESUME_ARM = "avoid"

__all__ = [
    "ECHO_DROP_RATE",
    "INPUT_PRICE_RATIO",
    "IN_PARTITION_DROP_RATE",
    "LOSES_TO_PLAIN",
    "ArmDrop",
    "ArmStats",
    "StrategyDecision",
    "StrategySelector",
]

#: an output token costs this many input tokens
INPUT_PRICE_RATIO = 4.0
#: the best arm leads decisively at this many times every other arm's yield
DECISIVE_LEAD = 1.5
#: with a decisive lead, explore at one decision in this many (horizon = 4 decisions)
DECISIVE_EXPLORE_EVERY = 4
#: an arm whose answers echo the prompt in this share of their lines is dropped
ECHO_DROP_RATE = 0.25
#: ... when that is at least this much above ``plain``'s echo rate
ECHO_MARGIN = 0.1
#: an arm naming a partition is dropped when fewer of its candidates fit it
IN_PARTITION_DROP_RATE = 0.5
#: batches of an arm on a provider before it can be dropped
MIN_EVIDENCE_BATCHES = 3
#: with sightings: an arm whose confirmed yield is under this share of plain's is dropped
LOSES_TO_PLAIN = 0.5
#: with sightings: a batch is scored once this many decision intervals of its provider old
MATURITY = 1
#: keys of new items awaiting a second sighting, at most (the oldest are forgotten)
MAX_PENDING = 50_000
#: costly arms (an avoid list, a partition) are tried once the best cheap arm's
#: recent yield has fallen below this share of the best yield it had
ESCALATE_AT = 0.5


@dataclass
class ArmStats:
    name: str
    #: (provider batch number, proxy new, tokens, cost, kept share) of its latest batches
    batches: deque[tuple[int, float, int, float, float]] = field(
        default_factory=lambda: deque(maxlen=30)
    )
    #: provider batch number -> its new items seen again by a later request
    confirmed: dict[int, int] = field(default_factory=dict)
    confirmed_total: int = 0
    #: score by confirmed finds over batches up to ``until`` (judge_by_sightings)
    by_sightings: bool = False
    until: int = 0
    requests: int = 0
    new: int = 0
    tokens: int = 0
    lines: int = 0
    echoes: int = 0
    candidates: int = 0  # candidates of batches that named a partition
    off_partition: int = 0
    since: int = 0  # only batches after this provider batch number count (the horizon)
    last_yield: float | None = None  # per_1k_cost when it was last measured

    def add(
        self,
        new: int,
        tokens: int,
        seq: int = 0,
        cost: float | None = None,
        *,
        lines: int = 0,
        echoes: int = 0,
        candidates: int = 0,
        off_partition: int | None = None,
    ) -> None:
        echo_share = min(1.0, echoes / lines) if lines else 0.0
        proxy = new * (1.0 - echo_share)
        if len(self.batches) == self.batches.maxlen:
            self.confirmed.pop(self.batches[0][0], None)
        self.batches.append((seq, proxy, tokens, tokens if cost is None else cost, 1 - echo_share))
        self.requests += 1
        self.new += new
        self.tokens += tokens
        self.lines += lines
        self.echoes += echoes
        if off_partition is not None:
            self.candidates += candidates
            self.off_partition += off_partition

    def confirm(self, seq: int) -> None:
        """A new item of batch ``seq`` was returned again by a later request."""
        self.confirmed_total += 1
        if any(b[0] == seq for b in self.batches):
            self.confirmed[seq] = self.confirmed.get(seq, 0) + 1

    @property
    def recent(self) -> list[tuple[int, float, int, float, float]]:
        return [b for b in self.batches if b[0] > self.since]

    @property
    def scored(self) -> list[tuple[int, float, int, float, float]]:
        """The batches its yield is measured on: recent ones, and with sightings only
        those old enough to have been seen again."""
        if not self.by_sightings:
            return self.recent
        return [b for b in self.batches if self.since < b[0] <= self.until]

    def _score(self, batch: tuple[int, float, int, float, float]) -> float:
        if not self.by_sightings:
            return batch[1]
        return self.confirmed.get(batch[0], 0) * batch[4]

    @property
    def per_1k_tokens(self) -> float:
        """Proxy new per 1,000 tokens (input and output at par) in the horizon."""
        recent = self.recent
        tokens = sum(b[2] for b in recent)
        return 1000 * sum(b[1] for b in recent) / tokens if tokens else 0.0

    @property
    def per_1k_cost(self) -> float:
        """Proxy new (with sightings: confirmed new) per 1,000 tokens of cost
        (output-token equivalents): the yield."""
        scored = self.scored
        cost = sum(b[3] for b in scored)
        return 1000 * sum(self._score(b) for b in scored) / cost if cost else 0.0

    @property
    def per_request(self) -> float:
        recent = self.recent
        return sum(b[1] for b in recent) / len(recent) if recent else 0.0

    @property
    def echo_rate(self) -> float:
        return self.echoes / self.lines if self.lines else 0.0

    @property
    def in_partition_rate(self) -> float | None:
        if not self.candidates:
            return None
        return 1.0 - self.off_partition / self.candidates

    def to_dict(self) -> dict[str, float | int | None]:
        in_partition = self.in_partition_rate
        return {
            "requests": self.requests,
            "new": self.new,
            "tokens": self.tokens,
            "echo_rate": round(self.echo_rate, 3),
            "in_partition_rate": None if in_partition is None else round(in_partition, 3),
            "recent_new_per_request": round(self.per_request, 3),
            "recent_new_per_1k_tokens": round(self.per_1k_tokens, 3),
            "recent_new_per_1k_cost": round(self.per_1k_cost, 3),
            "confirmed": self.confirmed_total,
        }


@dataclass
class StrategyDecision:
    best: str
    assignment: dict[int, str]
    yields: dict[str, dict[str, float | int | None]]
    provider: str = ""


@dataclass
class ArmDrop:
    provider: str
    arm: str
    reason: str


class ProviderArms:
    """One provider's arms, assignment (producer id -> arm) and decisions."""

    def __init__(
        self,
        provider: str,
        arm_names: list[str],
        producer_ids: list[int],
        every: int,
        *,
        start: str | None = None,
        escalated: bool = False,
        by_sightings: bool = False,
    ):
        self.provider = provider
        self.arms = {name: ArmStats(name, by_sightings=by_sightings) for name in arm_names}
        self.producer_ids = producer_ids
        #: the arm a badly obeyed one falls back to, never dropped: the cheapest
        self.fallback = DEFAULT_ARM if DEFAULT_ARM in self.arms else arm_names[0]
        self.start = start if start in self.arms else self.fallback
        self.assignment = {pid: self.start for pid in producer_ids}
        self.dropped: dict[str, str] = {}
        # costly arms may be explored (the cheap ones wore out, or there are none)
        self.escalated = escalated or not any(ARMS[n].cheap for n in arm_names)
        self.peak_cheap = 0.0  # the best yield a cheap arm has had
        self.every = every
        self.horizon = 4 * every
        self.seq = 0
        self.since = 0
        self.decisions = 0
        self.history: deque[StrategyDecision] = deque(maxlen=20)

    def live(self) -> list[ArmStats]:
        """Arms that may be used: not dropped, and costly ones only once escalated."""
        return [
            a
            for n, a in self.arms.items()
            if n not in self.dropped and (self.escalated or ARMS[n].cheap)
        ]

    def _maybe_escalate(self) -> None:
        cheap = [a for n, a in self.arms.items()
                 if ARMS[n].cheap and n not in self.dropped and len(a.scored) >= 2]  # fmt: skip
        if self.escalated or not cheap or len(cheap) == len(self.arms):
            return
        best = max(a.per_1k_cost for a in cheap)
        self.peak_cheap = max(self.peak_cheap, best)
        # worn out, or never yielding anything (a resumed run whose cheap arms only
        # repeat what the file holds: without this it never escalated and stalled)
        if best < ESCALATE_AT * self.peak_cheap or best <= 0.0:
            self.escalated = True

    def check_drop(self, arm: ArmStats) -> ArmDrop | None:
        if arm.name == self.fallback or arm.name in self.dropped:
            return None
        if arm.requests < MIN_EVIDENCE_BATCHES:
            return None
        plain = self.arms.get(DEFAULT_ARM)
        baseline = plain.echo_rate if plain is not None and plain.lines else 0.0
        if arm.echo_rate >= ECHO_DROP_RATE and arm.echo_rate >= baseline + ECHO_MARGIN:
            reason = f"echo rate {arm.echo_rate:.2f} (plain {baseline:.2f}) over {arm.lines} lines"
        else:
            rate = arm.in_partition_rate
            if rate is None or rate >= IN_PARTITION_DROP_RATE:
                return None
            reason = f"in-partition rate {rate:.2f} over {arm.candidates} candidates"
        return self._drop(arm, reason)

    def _drop(self, arm: ArmStats, reason: str) -> ArmDrop:
        """Drop ``arm`` for this provider: its producers move to the fallback."""
        self.dropped[arm.name] = reason
        for pid, name in self.assignment.items():
            if name == arm.name:
                self.assignment[pid] = self.fallback
        return ArmDrop(self.provider, arm.name, reason)

    def check_loss(self) -> list[ArmDrop]:
        """With sightings: the arms whose confirmed yield loses to plain's, dropped."""
        plain = self.arms.get(DEFAULT_ARM)
        if plain is None or DEFAULT_ARM in self.dropped or not plain.by_sightings:
            return []
        self._measure_window()
        if len(plain.scored) < MIN_EVIDENCE_BATCHES or plain.per_1k_cost <= 0.0:
            return []
        drops = []
        for arm in self.live():
            if arm is plain or arm.name == self.fallback or len(arm.scored) < MIN_EVIDENCE_BATCHES:
                continue
            if arm.per_1k_cost >= LOSES_TO_PLAIN * plain.per_1k_cost:
                continue
            reason = (
                f"loses to plain: {arm.per_1k_cost:.2f} confirmed new per 1k cost against "
                f"{plain.per_1k_cost:.2f} over {len(arm.scored)} batches"
            )
            drops.append(self._drop(arm, reason))
        return drops

    def _measure_window(self) -> None:
        for arm in self.arms.values():
            arm.since = self.seq - self.horizon
            arm.until = self.seq - MATURITY * self.every

    def decide(self) -> StrategyDecision | None:
        self._measure_window()
        self._maybe_escalate()
        live = self.live()
        measured = [a for a in live if len(a.scored) >= 2]
        if not measured:
            return None
        for arm in measured:
            arm.last_yield = arm.per_1k_cost
        best = max(measured, key=lambda a: a.per_1k_cost)
        # unmeasured arms are explored first, then the others in turn
        others = [a for a in live if a is not best]
        others.sort(key=lambda a: len(a.recent))
        self.decisions += 1
        decisive = all(
            o.last_yield is not None and best.per_1k_cost >= DECISIVE_LEAD * o.last_yield
            for o in others
        )
        explore_now = (
            not decisive or self.decisions % DECISIVE_EXPLORE_EVERY == 0
            if len(self.producer_ids) > 1
            else self.decisions % 4 == 0
        )
        assignment = {pid: best.name for pid in self.producer_ids}
        if others and explore_now:
            explorer = self.producer_ids[self.decisions % len(self.producer_ids)]
            assignment[explorer] = others[0].name
        changed = assignment != self.assignment
        self.assignment = assignment
        decision = StrategyDecision(
            best.name, assignment, {a.name: a.to_dict() for a in self.arms.values()}, self.provider
        )
        self.history.append(decision)
        return decision if changed else None


class StrategySelector:
    def __init__(
        self,
        producer_ids: list[int],
        arm_names: list[str] | None = None,
        every: int = 0,
    ) -> None:
        self.arm_names = [n for n in (arm_names or list(ARMS)) if n in ARMS] or [DEFAULT_ARM]
        self.producer_ids = sorted(producer_ids)
        self.every = every or max(4, 2 * len(self.producer_ids))
        self.providers: dict[str, ProviderArms] = {}
        self.drops: list[ArmDrop] = []
        self.evaluations = 0
        #: a resumed run's file already holds what cheap prompts find first
        self.resumed = False
        #: arms scored by confirmed finds (``record``'s ``new_keys``/``seen_keys``)
        self.judge_by_sightings = False
        #: key of a new item -> (provider, arm, provider batch number) of the batch that
        #: found it, until another request returns it
        self._pending: dict[int, tuple[str, str, int]] = {}

    def resume(self) -> None:
        """The run resumes a non-empty file: start on the avoid list, costly arms allowed.

        Starting cheap on a resumed file spends the first decisions on prompts that
        mostly repeat the file (a short resumed run found nothing new at all)."""
        self.resumed = True

    def _provider(self, name: str) -> ProviderArms:
        if name not in self.providers:
            self.providers[name] = ProviderArms(
                name, self.arm_names, self.producer_ids, self.every,
                start=self.start_arm, escalated=self.resumed,
                by_sightings=self.judge_by_sightings,
            )  # fmt: skip
        return self.providers[name]

    @property
    def start_arm(self) -> str:
        if self.resumed and RESUME_ARM in self.arm_names:
            return RESUME_ARM
        return DEFAULT_ARM if DEFAULT_ARM in self.arm_names else self.arm_names[0]

    def strategy_of(self, producer_id: int, provider: str | None = None) -> str:
        if provider is None or provider not in self.providers:
            return self.start_arm
        return self.providers[provider].assignment.get(producer_id, self.start_arm)

    def arms_of(self, producer_id: int) -> dict[str, str]:
        """Provider -> arm for a (re)started producer."""
        return {name: p.assignment.get(producer_id, self.start_arm)
                for name, p in self.providers.items()}  # fmt: skip

    def record(
        self,
        strategy: str | None,
        new: int,
        tokens: int,
        input_tokens: int | None = None,
        *,
        provider: str = "",
        lines: int | None = None,
        echoes: int | None = None,
        candidates: int = 0,
        off_partition: int | None = None,
        new_keys: Iterable[int] = (),
        seen_keys: Iterable[int] = (),
    ) -> StrategyDecision | None:
        """Count a batch made with arm ``strategy`` on ``provider``; input tokens cost 1/4.

        ``seen_keys``: every key the batch's request returned (its new ones among them
        or not), ``new_keys``: the keys of the items it added (judge_by_sightings).
        Returns a decision when the provider's arms change; arms dropped on the way
        are in ``take_drops()``.
        """
        if self.judge_by_sightings:
            self._confirm(seen_keys)
        p = self._provider(provider)
        arm = p.arms.get(strategy or "")
        if arm is None:
            return None
        p.seq += 1
        if self.judge_by_sightings:
            self._await(new_keys, (provider, arm.name, p.seq))
        cost = None
        if input_tokens is not None:
            cost = tokens - input_tokens + input_tokens / INPUT_PRICE_RATIO
        arm.add(
            new, tokens, p.seq, cost, lines=lines or 0, echoes=echoes or 0,
            candidates=candidates, off_partition=off_partition,
        )  # fmt: skip
        drop = p.check_drop(arm)
        if drop is not None:
            self.drops.append(drop)
        p.since += 1
        if p.since < p.every and drop is None:
            return None
        p.since = 0
        losses = p.check_loss()
        self.drops.extend(losses)
        drop = drop or (losses[0] if losses else None)
        decision = p.decide()
        self.evaluations += 1
        if decision is None and drop is not None:  # its producers were moved off it
            decision = StrategyDecision(
                p.start, dict(p.assignment), {a.name: a.to_dict() for a in p.arms.values()},
                provider,
            )  # fmt: skip
        return decision

    def _confirm(self, keys: Iterable[int]) -> None:
        pending = self._pending
        if not pending:
            return
        for key in keys:
            found = pending.pop(key, None)
            if found is not None:
                provider, name, seq = found
                self.providers[provider].arms[name].confirm(seq)

    def _await(self, keys: Iterable[int], found: tuple[str, str, int]) -> None:
        pending = self._pending
        for key in keys:
            if len(pending) >= MAX_PENDING:
                del pending[next(iter(pending))]  # the oldest: its batch is long scored
            pending[key] = found

    def take_drops(self) -> list[ArmDrop]:
        drops, self.drops = self.drops, []
        return drops

    def summary(self) -> dict[str, object]:
        return {
            "arms": self.arm_names,
            "evaluations": self.evaluations,
            "providers": {
                name: {
                    "arms": {a.name: a.to_dict() for a in p.arms.values()},
                    "dropped": dict(p.dropped),
                    "escalated": p.escalated,
                    "last_decisions": [d.best for d in p.history],
                    "assignment": {str(k): v for k, v in p.assignment.items()},
                }
                for name, p in self.providers.items()
            },
        }
