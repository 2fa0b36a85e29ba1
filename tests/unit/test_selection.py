import random
from collections import Counter

from system.producer.resilience.selection import ProviderStats, WeightedSelector


def test_choice_follows_weights():
    selector = WeightedSelector({"a": 3, "b": 1}, rng=random.Random(1))
    counts = Counter(selector.choose(["a", "b"]) for _ in range(4000))
    assert 0.72 <= counts["a"] / 4000 <= 0.78


def test_only_candidates_are_chosen_and_zero_weight_is_a_last_resort():
    selector = WeightedSelector({"a": 1, "b": 0, "c": 2}, rng=random.Random(2))
    assert {selector.choose(["a", "b"]) for _ in range(200)} == {"a"}
    assert selector.choose(["b"]) == "b"
    assert selector.choose([]) is None


def test_set_weights_ignores_unknown_and_negative():
    selector = WeightedSelector({"a": 1, "b": 1})
    selector.set_weights({"a": 5, "zzz": 3, "b": -1})
    assert selector.weights == {"a": 5.0, "b": 1.0}


def test_stats_record_latency_average_and_tokens():
    stats = ProviderStats()
    stats.record_success(100, 10, 20)
    stats.record_success(200, 1, 2)
    stats.record_failure()
    assert stats.as_dict() == {
        "requests": 3, "failures": 1, "input_tokens": 11, "output_tokens": 22, "latency_ms": 120.0
    }  # fmt: skip
