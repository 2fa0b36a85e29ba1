import random

from system.producer.resilience.backoff import Backoff


def test_exponential_growth_capped_without_jitter():
    backoff = Backoff(base_s=0.5, factor=2, cap_s=3, jitter=0)
    assert [backoff.delay(a) for a in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_jitter_stays_within_bounds_and_varies():
    backoff = Backoff(base_s=1, factor=2, cap_s=60, jitter=0.5, rng=random.Random(7))
    delays = [backoff.delay(3) for _ in range(200)]
    assert all(2.0 <= d <= 4.0 for d in delays)
    assert len({round(d, 6) for d in delays}) > 100


def test_retry_after_is_a_floor_but_bounded():
    backoff = Backoff(base_s=0.5, jitter=0, max_retry_after_s=30)
    assert backoff.delay(1, retry_after=4) == 4
    assert backoff.delay(1, retry_after=0.1) == 0.5
    assert backoff.delay(1, retry_after=3600) == 30
