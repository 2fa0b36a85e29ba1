"""pytest plugin (entry point ``tester``): the harness's fixtures for any test suite.

Fixtures:
  ``collector``      an embedded OTLP collector on ephemeral ports, one per test
  ``constellation``  a ServiceConstellation tracing to it, in the test's tmp_path;
                     torn down after the test, which fails if a process is left
  ``topic_waiter``   ``topic_waiter(name, timeout=120)`` -> Topic from that collector
  ``span_query``     ``span_query()`` -> tester.query selection of every span received so far

Everything is per test (own ports, own folders), so ``pytest -n auto`` is safe.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tester.collector import Collector
from tester.constellation import ServiceConstellation
from tester.query import Spans, spans
from tester.topic import Topic


@pytest.fixture
def collector() -> Iterator[Collector]:
    with Collector() as c:
        yield c


@pytest.fixture
def constellation(collector: Collector, tmp_path: Path) -> Iterator[ServiceConstellation]:
    c = ServiceConstellation(collector.http_endpoint, tmp_path / "constellation")
    try:
        yield c
    finally:
        c.stop()
        leftovers = c.leftover_processes()
        assert not leftovers, f"processes left running: {[p.pid for p in leftovers]}"


@pytest.fixture
def topic_waiter(collector: Collector) -> Callable[..., Topic]:
    def wait(name: str, timeout: float = 120.0, **kwargs: Any) -> Topic:
        return Topic.wait_for_topic(name, collector, timeout, **kwargs)

    return wait


@pytest.fixture
def span_query(collector: Collector) -> Callable[[], Spans]:
    """``span_query().name("chat *").at_least(3)``: a fresh selection at each call."""
    return lambda: spans(collector.store)
