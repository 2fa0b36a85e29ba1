from system.orchestrator.degraded import DegradedWatch


def test_the_limit_runs_only_while_every_connected_producer_is_degraded():
    now = [100.0]
    watch = DegradedWatch(10, clock=lambda: now[0])
    watch.mark(1, True, "all down")
    assert watch.remaining([1, 2]) is None  # producer 2 is healthy
    now[0] = 104.0
    watch.mark(2, True)
    assert watch.remaining([1, 2]) == 10  # since the last one went degraded
    now[0] = 114.0
    assert watch.remaining([1, 2]) == 0
    watch.mark(2, False)
    assert watch.remaining([1, 2]) is None
    watch.forget(2)
    assert watch.remaining([1]) == -4  # producer 1 alone has been degraded since 100
    assert "10s" in watch.reason() and "all down" in watch.reason()
    assert DegradedWatch(0).remaining([]) is None
