"""pytest plugin (entry point ``tester``): the harness's fixtures for any test suite.

Fixtures:
  ``collector``      an embedded OTLP collector on ephemeral ports, one per test
  ``constellation``  a ServiceConstellation tracing to it, in the test's tmp_path;
                     torn down after the test, which fails if a process is left
  ``topic_waiter``   ``topic_waiter(name, timeout=120)`` -> Topic from that collector
  ``span_query``     ``span_query()`` -> tester.query selection of every span received so far

Everything is per test (own ports, own folders), so ``pytest -n auto`` is safe.

When a test using them fails, its traces (``traces.otlp.json``, ``traces.jaeger.json``,
which Jaeger UI opens), its processes' logs and ``report.html`` (the failure with its
evidence, and the traces' waterfall) are saved into a folder named after
the test (``--tester-artifacts DIR``, else ``$TEST_ARTIFACTS/pytest``, else
``./artifacts/pytest``); the failure report and the end of the session name it.
A failed check shows its message and evidence tree without the harness's own
frames (tester/tracebacks.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tester import failure_artifacts
from tester.collector import Collector
from tester.constellation import ServiceConstellation
from tester.query import Spans, spans
from tester.topic import Topic

SECTION = "tester artifacts"
_CALL_FAILED = pytest.StashKey[bool]()
#: the failed call's report: its text and duration go into report.html
_FAILURE = pytest.StashKey[pytest.TestReport]()
_SAVED = pytest.StashKey[Path]()
_SAVED_PROPERTY = "tester_artifacts"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("tester").addoption(
        "--tester-artifacts",
        default=None,
        metavar="DIR",
        help="where a failed test's traces and logs go (default $TEST_ARTIFACTS/pytest "
        "or ./artifacts/pytest)",
    )


def _folder(item: pytest.Item) -> Path:
    root = failure_artifacts.artifacts_root(
        item.config.getoption("--tester-artifacts"), item.config.rootpath
    )
    return root / failure_artifacts.folder_name(item.nodeid)


def _uses_harness(item: pytest.Item) -> bool:
    return "collector" in getattr(item, "fixturenames", ())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call" and report.failed and _uses_harness(item):
        item.stash[_CALL_FAILED] = True
        item.stash[_FAILURE] = report
        report.sections.append(
            (
                SECTION,
                f"traces, logs and report.html of this test (written at teardown): {_folder(item)}",
            )
        )
    if report.when == "teardown" and _SAVED in item.stash:
        report.user_properties.append((_SAVED_PROPERTY, str(item.stash[_SAVED])))
    return report


def _save_if_failed(request: pytest.FixtureRequest, collector: Collector, logs: list[Path]) -> None:
    node = request.node
    if not node.stash.get(_CALL_FAILED, False) or _SAVED in node.stash:
        return
    failed = node.stash.get(_FAILURE, None)
    with contextlib.suppress(OSError):
        node.stash[_SAVED] = failure_artifacts.save(
            _folder(node),
            collector.store.all(),
            logs,
            test=node.nodeid,
            failure=failed.longreprtext if failed is not None else "",
            duration_s=failed.duration if failed is not None else 0.0,
        )


@pytest.fixture
def collector(request: pytest.FixtureRequest) -> Iterator[Collector]:
    with Collector() as c:
        yield c
        _save_if_failed(request, c, [])  # without a constellation: the traces alone


@pytest.fixture
def constellation(
    request: pytest.FixtureRequest, collector: Collector, tmp_path: Path
) -> Iterator[ServiceConstellation]:
    c = ServiceConstellation(collector.http_endpoint, tmp_path / "constellation")
    try:
        yield c
    finally:
        c.stop()  # first: the processes flush their last spans and logs
        _save_if_failed(request, collector, c.log_files())
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


# ------------------------------------------------------------------ the session's end
#: (test, folder) of every saved failure, gathered where the reports arrive (the
#: controller under xdist, whose workers send their reports' user_properties)
_saved: list[tuple[str, str]] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for key, value in report.user_properties:
        if key == _SAVED_PROPERTY:
            _saved.append((report.nodeid, str(value)))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _saved:
        return
    terminalreporter.section("tester: traces, logs and report.html of failed tests")
    for nodeid, path in _saved:
        terminalreporter.write_line(f"{nodeid}\n    {path}")
