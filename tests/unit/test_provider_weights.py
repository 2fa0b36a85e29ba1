from system.levers.provider_weights import MAX_FACTOR, AdaptiveWeights
from system.orchestrator.stats import ProviderStats


def stats(requests: int, new: int, tokens: int) -> ProviderStats:
    return ProviderStats(
        requests=requests, new=new, input_tokens=tokens // 2, output_tokens=tokens // 2
    )


def test_the_higher_yield_gets_more_weight() -> None:
    weights = AdaptiveWeights({"a": 1.0, "b": 1.0})
    proposal = weights.propose({"a": stats(10, 300, 10_000), "b": stats(10, 100, 10_000)})
    assert proposal is not None
    assert proposal["a"] > 1.0 > proposal["b"]


def test_nothing_changes_without_enough_evidence_or_difference() -> None:
    weights = AdaptiveWeights({"a": 3.0, "b": 1.0})
    assert weights.propose({"a": stats(2, 50, 1000), "b": stats(20, 10, 1000)}) is None
    assert weights.propose({"a": stats(10, 100, 1000)}) is None
    assert weights.propose({"a": stats(10, 100, 1000), "b": stats(10, 100, 1000)}) is None


def test_factors_are_clipped_and_keep_the_configured_ratio() -> None:
    weights = AdaptiveWeights({"a": 2.0, "b": 1.0, "c": 1.0})
    proposal = weights.propose(
        {"a": stats(10, 1000, 1000), "b": stats(10, 0, 1000), "c": stats(10, 1, 1000)}
    )
    assert proposal is not None
    assert proposal["a"] <= 2.0 * MAX_FACTOR
    assert proposal["b"] == 0.25  # never starved outright
    assert (
        weights.propose(
            {"a": stats(10, 1000, 1000), "b": stats(10, 0, 1000), "c": stats(10, 1, 1000)}
        )
        is None
    )  # same evidence, same weights: nothing to send
