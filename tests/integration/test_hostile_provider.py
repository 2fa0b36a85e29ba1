"""Issue 21, items 1-3 and 6-8: a hostile provider never hangs, bloats or fails a run.

Each test runs the real orchestrator and producer (``--provider env``) with a
hostile provider (``hostile_llm``, weight 1: every request tries it first)
and a healthy one (the fake model, weight 0: the last resort, so it answers
only after the hostile attempt failed). Each case must end within its
documented bound (docs/ARCHITECTURE.md "Guarantees: deadlines and caps"),
measured from the hostile server's side, and the run must complete on the
healthy provider. The cases with the hostile provider alone show how a run
ends when nothing else is left.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tester.fake_llm import FakeLLMServer
from tests.integration.hostile_llm import BODIES, HOSTILE_ITEMS, HUGE_BYTES, HostileLLM
from tests.integration.orchestrator_proc import Orchestrator, read_run_json

pytestmark = pytest.mark.integration

ITERATIONS = 2
DEADLINE_S = 1.0  # the hostile provider's deadline= in these runs
SLACK_S = 10.0  # process scheduling on a loaded machine
ANSWER_CAP = 4 * 1024 * 1024  # MAX_ANSWER_BYTES, documented


@pytest.fixture(scope="module")
def healthy(tmp_path_factory):
    log = tmp_path_factory.mktemp("healthy") / "fake-llm.log"
    with FakeLLMServer(model="m", log_path=log) as server:
        yield server


@dataclass
class Run:
    code: int
    elapsed: float
    log: str  # the orchestrator's and the producers' logs
    out: Path

    def items(self) -> list[str]:
        path = self.out / "attributes.txt"
        return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def run(
    tmp_path: Path,
    hostile: HostileLLM,
    healthy: FakeLLMServer | None,
    *,
    iterations: int = ITERATIONS,
    hostile_fields: str = "",
    extra: list[str] | None = None,
    timeout: float = 120,
) -> Run:
    out, logs = tmp_path / "out", tmp_path / "logs"
    llm = f"name=hostile,base_url={hostile.base_url},model=m,weight=1,timeout=30"
    llm += f",deadline={DEADLINE_S}{hostile_fields}"
    args = ["--topic", "Harbour museums", "--producers", "1", "--iterations", str(iterations)]
    args += ["--request-size", "5", "--provider", "env", "--llm", llm]
    if healthy is not None:
        args += ["--llm", f"name=healthy,base_url={healthy.base_url},model=m,weight=0"]
    args += ["--env-file", str(tmp_path / "none.env"), "--output", str(out)]
    args += ["--log-dir", str(logs), *(extra or [])]
    with Orchestrator(args, tmp_path) as orch:
        started = time.monotonic()
        code = orch.wait(timeout)
        elapsed = time.monotonic() - started
        text = orch.log_text()
    text += "".join(p.read_text(errors="replace") for p in sorted(logs.glob("producer-*.log")))
    assert "Traceback" not in text, text[-4000:]
    return Run(code, elapsed, text, out)


def completed_on_healthy(result: Run) -> None:
    assert result.code == 0, result.log[-4000:]
    summary = read_run_json(result.out)
    assert summary["status"] == "completed", summary
    assert result.items(), "the healthy provider's answers are in the output"
    assert not set(HOSTILE_ITEMS) & set(result.items()), "a refused answer was used"


def test_trickle(tmp_path, healthy):
    """Item 1: headers, then a byte every 0.2 s: each attempt ends at its deadline."""
    with HostileLLM("trickle") as hostile:
        result = run(tmp_path, hostile, healthy)
        seen = hostile.seen()
    completed_on_healthy(result)
    assert seen, "the hostile provider was never asked"
    for request in seen:
        assert request.gave_up is not None, "an attempt was still reading when the run ended"
        assert request.gave_up - request.started <= DEADLINE_S + SLACK_S
    assert "(deadline)" in result.log


def test_huge_answer(tmp_path, healthy):
    """Item 2: a 100 MB answer (declared, undeclared, gzipped) is abandoned at the cap."""
    modes = ["huge", "huge_undeclared", "gzip_bomb"]
    with HostileLLM("|".join(modes)) as hostile:
        result = run(tmp_path, hostile, healthy, iterations=len(modes))
        seen = hostile.seen()
    completed_on_healthy(result)
    assert {request.mode for request in seen} == set(modes)
    for request in seen:
        # the cap plus what the kernel's socket buffers held when the client gave up
        assert request.sent < 8 * ANSWER_CAP < HUGE_BYTES, request
    assert result.log.count("(answer_too_large)") >= len(modes)


def test_long_retry_after_with_a_healthy_provider(tmp_path, healthy):
    """Item 3: Retry-After 10^9 is reported (and capped); the run goes on elsewhere."""
    with HostileLLM("retry_after") as hostile:
        result = run(tmp_path, hostile, healthy)
        requests = len(hostile.seen())
    completed_on_healthy(result)
    assert requests == 1, "the provider was called again during its Retry-After"
    assert "provider hostile asks to wait 300s (Retry-After)" in result.log


def test_long_retry_after_alone_counts_as_degraded(tmp_path):
    """Item 3: with no other provider, the wait is degraded time: --max-degraded-s fires."""
    with HostileLLM("retry_after") as hostile:
        result = run(tmp_path, hostile, None, extra=["--max-degraded-s", "2"])
    assert result.code == 1, result.log[-4000:]
    assert result.elapsed < 60  # not the 300 s Retry-After
    reason = read_run_json(result.out)["reason"]
    assert "no LLM provider reachable for 2s" in reason and "Retry-After" in reason, reason
    assert "reports degraded" in result.log


MALFORMED = sorted(set(BODIES) - {"content_parts", "invalid_utf8"})


def test_malformed(tmp_path, healthy):
    """Item 6: each malformed answer is a failed attempt (failover), never a crash.

    One run: request i gets shape i (the breaker is kept closed to let them all in).
    """
    with HostileLLM("|".join(f"body:{shape}" for shape in MALFORMED)) as hostile:
        result = run(
            tmp_path,
            hostile,
            healthy,
            iterations=len(MALFORMED),
            hostile_fields=",breaker_failures=100",
        )
        seen = hostile.seen()
    completed_on_healthy(result)
    assert {request.mode for request in seen} == {f"body:{shape}" for shape in MALFORMED}
    assert result.log.count("(invalid_response)") >= len(MALFORMED)


def test_content_parts_and_invalid_utf8(tmp_path, healthy):
    """Items 6 and 7: content as a list of text parts is read; an invalid byte drops
    only the line holding it."""
    with HostileLLM("body:content_parts|body:invalid_utf8") as hostile:
        result = run(tmp_path, hostile, healthy)
    assert result.code == 0, result.log[-4000:]
    items = result.items()
    assert {"Parted Amber Hall", "Parted Cobalt Hall"} <= set(items), items
    assert {"Amber Vault Hall", "Cobalt Vault Hall"} <= set(items), items
    assert not [item for item in items if "Broken" in item or "\ufffd" in item]


def test_wrong_key_disables_the_provider(tmp_path, healthy):
    """Item 8: a refused key takes the provider out at once; the run goes on."""
    with HostileLLM("status:401") as hostile:
        result = run(tmp_path, hostile, healthy)
        requests = len(hostile.seen())
    completed_on_healthy(result)
    assert requests == 1, f"the provider was asked {requests} times after refusing the key"
    assert "provider hostile failed for good" in result.log
    assert "disabled for the rest of the run" in result.log


def test_wrong_key_alone_fails_the_run_at_once(tmp_path):
    """Item 8: with no provider left the run fails (exit 1) with the reason, at once."""
    with HostileLLM("status:401") as hostile:
        result = run(tmp_path, hostile, None)
    assert result.code == 1, result.log[-4000:]
    assert result.elapsed < 60  # not --max-degraded-s (300 s)
    reason = read_run_json(result.out)["reason"]
    assert "every provider is disabled" in reason and "hostile" in reason, reason
    assert "HTTP 401" in reason
