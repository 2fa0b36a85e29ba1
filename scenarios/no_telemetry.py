"""The trace endpoint is unreachable: the system still works; the tester says "no telemetry"."""

from __future__ import annotations

from scenarios._peers import closed_port
from tester.constellation import OrchestratorConfig
from tester.query import NoTelemetry, spans
from tester.scenario import ScenarioContext

CONFIG = OrchestratorConfig(topic="Unobserved islands", producers=2, iterations=5)


def run(ctx: ScenarioContext) -> None:
    endpoint = ctx.fact("trace_endpoint", f"http://127.0.0.1:{closed_port()}")
    constellation = ctx.constellation(trace_endpoint=endpoint)
    orchestrator = constellation.start_orchestrator(CONFIG)
    ctx.fact_path("attributes", constellation.output_dir_for(CONFIG) / "attributes.txt")
    ctx.fact("exit_code", orchestrator.wait(timeout=ctx.timeout))
    ctx.fact("orchestrator_log", str(orchestrator.log_path))


def check(ctx: ScenarioContext) -> None:
    code = ctx.facts["exit_code"]
    assert code == 0, (
        f"orchestrator exited {code} without telemetry; log {ctx.facts['orchestrator_log']}"
    )
    attributes = ctx.path("attributes")
    lines = attributes.read_text(encoding="utf-8").splitlines() if attributes.exists() else []
    assert lines, f"no attribute written to {attributes} while the trace endpoint was down"
    spans(ctx.store).none()  # nothing can have reached the tester
    try:
        ctx.topic(CONFIG.topic, timeout=2.0)
    except NoTelemetry as exc:
        ctx.note(
            f"no telemetry (as expected): trace endpoint {ctx.facts['trace_endpoint']} "
            f"unreachable; the run still wrote {len(lines)} attributes and exited 0"
        )
        assert "no telemetry arrived at all" in str(exc), f"unclear no-telemetry report: {exc}"
    else:
        raise AssertionError("a topic was found although no span could have arrived")
