"""The plugin's fixtures, used the way a user's own suite would."""

import json

import pytest

from tester.constellation import OrchestratorConfig

pytestmark = pytest.mark.integration


def test_plugin_fixtures_run_a_topic(constellation, topic_waiter):
    constellation.start_orchestrator(
        OrchestratorConfig(topic="Plugin check", producers=2, iterations=2)
    )
    topic = topic_waiter("Plugin check")
    topic.assert_completed().assert_no_errors().assert_counts_consistent()


def test_plugin_is_registered(pytestconfig):
    assert pytestconfig.pluginmanager.has_plugin("tester")


FAILING_TEST = """
from tester.constellation import OrchestratorConfig


def test_a_check_that_fails(constellation, topic_waiter, span_query):
    constellation.start_orchestrator(
        OrchestratorConfig(topic="Plugin failure", producers=1, iterations=2)
    )
    topic_waiter("Plugin failure").assert_completed()
    span_query().name("no.such.span").at_least(1)
"""


@pytest.mark.parametrize("workers", ["0", "1"])
def test_a_failed_check_shows_evidence_not_internals_and_saves_its_traces(tmp_path, workers):
    import subprocess
    import sys

    (tmp_path / "test_user_suite.py").write_text(FAILING_TEST)
    saved_root = tmp_path / "saved"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-n",
            workers,
            "-p",
            "no:cacheprovider",
            "--tester-artifacts",
            str(saved_root),
            "test_user_suite.py",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    # the check's message and its evidence tree, without the harness's frames or reprs
    assert "name('no.such.span')" in out and "expected at least 1 span(s), found 0" in out, out
    assert "evidence (" in out and "topic.run" in out, out
    assert "tester/query/selection.py" not in out, out
    assert "resource=" not in out and "Span(trace_id" not in out, out
    folder = saved_root / "test_user_suite.py_test_a_check_that_fails"
    assert f"traces, logs and report.html of this test (written at teardown): {folder}" in out, out
    assert "tester: traces, logs and report.html of failed tests" in out and str(folder) in out, out
    from tester.collector import spans_from_otlp_json

    saved = spans_from_otlp_json((folder / "traces.otlp.json").read_bytes())
    assert any(s.name == "topic.run" for s in saved)
    jaeger = json.loads((folder / "traces.jaeger.json").read_text())
    assert sum(len(t["spans"]) for t in jaeger["data"]) == len(saved)
    logs = sorted(p.name for p in (folder / "logs").iterdir())
    assert any(name.startswith("orchestrator") for name in logs), logs
    assert any(name.startswith("producer") for name in logs), logs
    # and the page to read it all in: the failure's evidence and the traces
    page = (folder / "report.html").read_text()
    data = json.loads(page.split('id="report-data">', 1)[1].split("</script>", 1)[0])
    (scenario,) = data["scenarios"]
    assert scenario["name"] == "test_user_suite.py::test_a_check_that_fails"
    assert "expected at least 1 span(s), found 0" in scenario["detail"]
    assert scenario["traces"]["total"] == len(saved)
    assert scenario["links"]["traces_otlp"] == "traces.otlp.json", scenario["links"]
