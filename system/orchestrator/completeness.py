"""How complete is the run? An estimate of the reachable universe from sighting counts.

Each LLM request is one sampling unit and an item either is in its answer or
not (a model lists an item once per answer), so the data are *incidence*
counts: ``Q_k`` = items returned by exactly k of the ``m`` requests. From them:

* **Chao2, bias-corrected** (Chao 1987): unseen ``f0 = (m-1)/m * Q1(Q1-1) /
  (2(Q2+1))``. It is a lower bound when items differ in popularity, which an
  LLM's items do (a Zipf-like head and a long tail).
* **iChao2** (Chao, Lin et al. 2014) adds the term from ``Q3`` and ``Q4``
  that corrects most of that bias: on the simulated model's Zipf universes it
  is within 10% of the truth from half coverage on, where Chao2 is 15-20% low
  (benchmarks/completeness/). The point estimate is iChao2.
* **Interval**: Chao's log-normal interval, ``S + f0/K .. S + f0*K`` with
  ``K = exp(1.96 sqrt(log(1 + var/f0^2)))``. The variance is the delta
  method's over (Q1..Q4), taken as multinomial counts of the estimated
  universe (covariance ``Q_i(1 - Q_i/N)`` and ``-Q_i Q_j/N``), the larger of
  Chao2's and iChao2's: Chao2's closed-form variance alone ignores the Q3/Q4
  term and gave intervals that held the truth in ~80% of checkpoints on the
  simulator instead of 95%. The low end uses Chao2's ``f0`` (the conservative
  lower bound) rounded down to whole items (fewer than one unseen item is
  none), the high end iChao2's. Both ends are at least the items found.
* **Good-Turing sample coverage** (Chao & Jost 2012, incidence form): the
  share of the model's answer *mass* the sample already covers,
  ``1 - Q1/U * (m-1)Q1 / ((m-1)Q1 + 2Q2)`` with ``U`` the total sightings:
  the chance that the next item a request returns is one already seen. It is
  reported beside the coverage of the universe's *items*, which is what
  ``--target-coverage`` judges.

Coverage = items found / estimated universe; its interval is found / the
universe's interval.

The estimate needs enough requests: with fewer than ``MIN_REQUESTS`` in the
sample there is none (after one request every item is a singleton and no
formula can say anything).

Singletons mean unseen items: while any item of the sample was sighted only
once (``Q1 > 0``) the estimate counts at least ``MIN_UNSEEN`` unseen item
(Chao2's ``Q1(Q1-1)`` term is 0 for a single singleton, which made one
sighting of one junk word read as coverage 1.0).

**The stop** (``--target-coverage X``; ``Estimate.stop_low``): the run stops
at the first estimate whose ``stop_low`` reaches X; ``stop_low`` is the
coverage's low end computed with ``Z_STOP`` (the 95% interval's low end,
one-sided 97.5% at each look). The estimate is looked at after every batch,
and a bound checked at every look errs far more often than its level says:
the old one-sided 90% bound stopped below a true X in 10-25% of runs on
small Zipf universes. ``Z_STOP`` is a correction *measured* for the repeated
looks on simulated universes of 50-5,000 items, flat to Zipf 1.5, requests
of 10-60 items, with and without avoid lists (benchmarks/completeness/
``calibration.py``, 500 seeded runs per shape): the README there has the
share of runs stopping below a true X per shape, the shapes where it is over
10%, and what the safety costs in requests. It is not a guarantee for
universes outside those shapes (no estimator can see a tail it never
sampled).
"""

from __future__ import annotations

import math
from array import array
from dataclasses import asdict, dataclass
from typing import Any

__all__ = [
    "MIN_REQUESTS",
    "MIN_UNSEEN",
    "Z_STOP",
    "Estimate",
    "estimate",
    "estimate_from_counts",
    "estimate_from_table",
]

#: requests in the sample before an estimate is given
MIN_REQUESTS = 8
Z_95 = 1.959964
#: the stop rule's bound: the 95% interval's low end (one-sided 97.5% per look), a level
#: chosen for the repeated looks by measurement (module docstring, benchmarks/completeness/)
Z_STOP = Z_95
#: unseen items the estimate counts at least while any item was sighted only once
MIN_UNSEEN = 1.0


@dataclass(frozen=True)
class Estimate:
    basis: str  # the sample: "all" requests (docs/ARCHITECTURE.md "Completeness")
    found: int  # distinct items found by the whole run (what coverage is of)
    requests: int  # m: requests in the sample
    distinct: int  # S: distinct items in the sample
    q1: int
    q2: int
    q3: int
    q4: int
    universe: float  # estimated reachable universe (iChao2)
    universe_low: float
    universe_high: float
    coverage: float  # found / universe
    coverage_low: float
    coverage_high: float
    sample_coverage: float  # Good-Turing: share of the answer mass already seen
    #: the coverage's low end at ``Z_STOP``: what --target-coverage judges
    stop_low: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("universe", "universe_low", "universe_high"):
            data[name] = round(data[name], 1)
        for name in ("coverage", "coverage_low", "coverage_high", "sample_coverage", "stop_low"):
            data[name] = round(data[name], 4)
        return data

    def interval_text(self) -> str:
        return (
            f"{100 * self.coverage:.0f}% [{100 * self.coverage_low:.0f}-"
            f"{100 * self.coverage_high:.0f}%] of ~{self.universe:.0f}"
        )


def _f0_chao2(q: tuple[float, ...], m: int) -> float:
    """Bias-corrected Chao2: the unseen items, a lower bound under heterogeneity."""
    return (m - 1) / m * q[0] * (q[0] - 1) / (2 * (q[1] + 1))


def _f0_ichao2(q: tuple[float, ...], m: int) -> float:
    """iChao2: Chao2 plus the correction from Q3 and Q4."""
    q1, q2, q3, q4 = q
    extra = ((m - 3) / (4 * m)) * (q3 / (q4 + 1))
    return _f0_chao2(q, m) + extra * max(q1 - ((m - 3) / (2 * (m - 1))) * q2 * q3 / (q4 + 1), 0.0)


def _delta_variance(f: Any, q: tuple[int, int, int, int], m: int, universe: float) -> float:
    """Var(f(Q)) by the delta method, Q multinomial over ``universe`` items."""
    grad = []
    for i in range(4):
        h = max(0.5, 0.01 * q[i])
        up = tuple(q[j] + (h if j == i else 0) for j in range(4))
        down = tuple(max(0.0, q[j] - (h if j == i else 0)) for j in range(4))
        grad.append((f(up, m) - f(down, m)) / (up[i] - down[i]))
    n = max(universe, 1.0)
    var = 0.0
    for i in range(4):
        for j in range(4):
            cov = q[i] * (1 - q[i] / n) if i == j else -q[i] * q[j] / n
            var += grad[i] * grad[j] * cov
    return max(var, 0.0)


def estimate(
    *,
    m: int,
    distinct: int,
    q: tuple[int, int, int, int],
    total: int,
    found: int,
    basis: str = "all",
) -> Estimate | None:
    """The estimate from the frequency counts of a sample of ``m`` requests.

    ``distinct`` items were sighted in the sample (``total`` sightings); ``q`` is
    (Q1, Q2, Q3, Q4); ``found`` is what the run holds (at least ``distinct``
    when the sample is the unsteered share of a steered run)."""
    if m < MIN_REQUESTS or distinct <= 0:
        return None
    q1, q2, q3, q4 = q
    f0_chao = _f0_chao2(q, m)
    f0 = _f0_ichao2(q, m)
    if q1 > 0:
        f0 = max(f0, MIN_UNSEEN)
    var = max(
        _delta_variance(_f0_chao2, q, m, distinct + f0),
        _delta_variance(_f0_ichao2, q, m, distinct + f0),
    )

    def k(f: float, z: float = Z_95) -> float:
        return math.exp(z * math.sqrt(math.log(1 + var / (f * f)))) if f > 0 else 1.0

    low: float = distinct + (math.floor(f0_chao / k(f0_chao)) if f0_chao > 0 else 0)
    high = distinct + (f0 * k(f0) if f0 > 0 else 0.0)
    universe = max(float(found), distinct + f0)
    low, high = max(float(found), float(low)), max(float(found), high, universe)
    if q1 == 0:
        sample_coverage = 1.0
    else:
        ratio = (
            (m - 1) * q1 / ((m - 1) * q1 + 2 * q2)
            if q2 > 0
            else (m - 1) * (q1 - 1) / ((m - 1) * (q1 - 1) + 2)
        )
        sample_coverage = max(0.0, 1.0 - q1 / max(total, 1) * ratio)
    return Estimate(
        basis=basis,
        found=found,
        requests=m,
        distinct=distinct,
        q1=q1,
        q2=q2,
        q3=q3,
        q4=q4,
        universe=universe,
        universe_low=low,
        universe_high=high,
        coverage=found / universe if universe else 1.0,
        coverage_low=found / high if high else 1.0,
        stop_low=found
        / max(float(found), universe, distinct + (f0 * k(f0, Z_STOP) if f0 else 0.0)),
        coverage_high=found / low if low else 1.0,
        sample_coverage=sample_coverage,
    )


def estimate_from_table(freq: list[int], total: int, m: int, found: int) -> Estimate | None:
    """From a sighting table's running frequency counts (``SightingTable.freq``)."""
    if m < MIN_REQUESTS:
        return None
    q = (freq[1], freq[2], freq[3], freq[4])
    return estimate(m=m, distinct=sum(freq) - freq[0], q=q, total=total, found=found)


def estimate_from_counts(
    counts: array[int] | list[int], m: int, found: int, basis: str = "all"
) -> Estimate | None:
    """``counts[i]`` = requests of the sample that returned item i (0 = none)."""
    if m < MIN_REQUESTS:
        return None
    zeros = counts.count(0)  # slow on large arrays: the orchestrator uses estimate_from_table
    q = (counts.count(1), counts.count(2), counts.count(3), counts.count(4))
    total = sum(counts)
    return estimate(m=m, distinct=len(counts) - zeros, q=q, total=total, found=found, basis=basis)
