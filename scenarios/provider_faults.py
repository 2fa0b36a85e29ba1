"""A provider fails (429 and 500 bursts), dies and comes back: retries, breaker, failover, probe.

Server ``flaky`` answers a few requests, then 429s (Retry-After 2 s) and
500s, then drops every connection until the scenario brings it back; server
``steady`` has a short 503 burst. The trace must show retries, flaky's
breaker opening, failover to steady, the run completing, and, once flaky is
back, a half-open probe that closes the breaker and traffic to flaky again.

Each LLM request is one ``chat`` span covering its attempts; a failed HTTP
attempt is an ``llm.attempt`` event with ``error.type`` on it, and a request
that failed every attempt is a ``chat`` span with status ERROR.
"""

from __future__ import annotations

import time

from scenarios import _oracle as o
from scenarios._helpers import wait_until
from scenarios._providers import chat_spans, events
from tester import schema as n
from tester.scenario import ScenarioContext

TOPIC = "Kyoto temples"
FLAKY_PLAN = "ok*4,429*4,500*6,down"
STEADY_PLAN = "ok*10,503*3,ok"
PRODUCERS, ITERATIONS = 3, 80
LATENCY_MS = 80  # keeps the run going for a few seconds after flaky is back
BREAKER_FAILURES, BREAKER_COOLDOWN = 3, 1.0
#: longer than a loaded machine's gap between two calls, so the oracle sees whether it is honoured
RETRY_AFTER = {"flaky": 2.0, "steady": 1.0}


def _breaker_events(ctx: ScenarioContext, to: str) -> list[object]:
    return [
        (span, e)
        for span in ctx.store.all()
        for e in span.events
        if e.name == n.EVENT_BREAKER_CHANGE
        and e.attributes.get(n.LLM_PROVIDER) == "flaky"
        and e.attributes.get(n.BREAKER_TO) == to
    ]


def run(ctx: ScenarioContext) -> None:
    flaky = o.fake_model(
        "flaky",
        model="model-flaky",
        plan=FLAKY_PLAN,
        retry_after=RETRY_AFTER["flaky"],
        latency_ms=LATENCY_MS,
    )
    steady = o.fake_model(
        "steady",
        model="model-steady",
        plan=STEADY_PLAN,
        retry_after=RETRY_AFTER["steady"],
        latency_ms=LATENCY_MS,
    )
    try:
        breaker = {"breaker_failures": BREAKER_FAILURES, "breaker_cooldown": BREAKER_COOLDOWN}
        llm = [
            *o.llm_spec(flaky, 1, timeout=5, **breaker),
            *o.llm_spec(steady, 1, timeout=5, **breaker),
        ]
        config = o.config_on(ctx, TOPIC, llm, producers=PRODUCERS, iterations=ITERATIONS)
        constellation = ctx.constellation()
        orchestrator = constellation.start_orchestrator(config)
        ctx.fact_path("attributes", constellation.output_dir_for(config) / "attributes.txt")
        # dead long enough for the breakers to open and a round of probes to fail
        wait_until(
            lambda: (
                (
                    _breaker_events(ctx, "open")
                    and flaky.stats()["outcomes"].get("down", 0) >= 2 * PRODUCERS
                )
                or not orchestrator.is_running()
            ),
            ctx.timeout,
            "flaky to be down and its circuit breaker open",
        )
        ctx.fact("orchestrator_running_when_breaker_opened", orchestrator.is_running())
        ctx.fact("back_at_ns", time.time_ns())
        flaky.set_plan("ok")  # the server comes back
        ctx.fact("exit_code", orchestrator.wait(timeout=ctx.timeout))
        ctx.fact("orchestrator_log", str(orchestrator.log_path))
        ctx.fact("server_stats", {"flaky": flaky.stats(), "steady": steady.stats()})
    finally:
        flaky.stop()
        steady.stop()
        o.save_ledgers(ctx, [flaky, steady])
    _solo_run(ctx)


#: one provider: two 500s (no Retry-After) on the one request, which is retried on it and
#: succeeds. (A 401 is not here: it disables the provider for the run, README "LLM
#: providers", which tests/integration/test_hostile_provider.py::test_wrong_key* checks.)
SOLO_TOPIC, SOLO_PLAN, SOLO_FAILURES = "Lisbon trams", "500*2,ok", 2


def _solo_run(ctx: ScenarioContext) -> None:
    solo = o.fake_model("solo", model="model-solo", plan=SOLO_PLAN)
    try:
        config = o.config_on(ctx, SOLO_TOPIC, o.llm_spec(solo), producers=1, iterations=1)
        orchestrator = ctx.constellation().start_orchestrator(config)
        ctx.fact("solo_exit_code", orchestrator.wait(timeout=ctx.timeout))
    finally:
        solo.stop()
        o.save_ledgers(ctx, [solo], group="solo")


def _check_solo(ctx: ScenarioContext) -> None:
    """ARCHITECTURE.md, retries: retrying a provider already tried waits an exponential
    backoff with jitter (0.5 s doubling per consecutive failure): each llm.retry's
    llm.delay_s is in (0, 0.5 * 2^(failures - 1)], and the fake server's clock shows the
    wait between its failed answer and the next call."""
    assert ctx.facts["solo_exit_code"] == 0, f"solo run exited {ctx.facts['solo_exit_code']}"
    topic = ctx.topic(SOLO_TOPIC)
    calls = sorted(chat_spans(topic), key=lambda c: c.start_ns)
    assert [c.status == "ERROR" for c in calls] == [False], (
        f"one request rescued by retries expected: {len(calls)} chat span(s)\n"
        + topic.evidence(calls[:3])
    )
    assert int(calls[0].attr(n.LLM_ATTEMPTS, 0)) == SOLO_FAILURES + 1, (
        f"{SOLO_FAILURES} failed attempts and the answer: the request has "
        f"{calls[0].attr(n.LLM_ATTEMPTS)} attempts\n" + topic.evidence(calls[:1])
    )
    retries = [e for _, e in events(topic, n.EVENT_RETRY)]
    delays = [float(e.attributes.get(n.LLM_DELAY_S, -1)) for e in retries]
    assert len(retries) == SOLO_FAILURES, (
        f"{SOLO_FAILURES} failures of the only provider, {len(retries)} llm.retry event(s)"
    )
    entries = o.ledgers(ctx, "solo")[0].entries
    assert [e.status for e in entries] == [500] * SOLO_FAILURES + [200], (
        f"the solo server's answers: {[e.status for e in entries]}"
    )
    for k, delay in enumerate(delays):
        # the provider's consecutive failures so far: the doubling's exponent
        failures = k + 1
        bound = 0.5 * 2 ** (failures - 1)
        assert 0 < delay <= bound + 1e-3, (
            f"retry {k + 1} waits llm.delay_s={delay}, outside the backoff (0, {bound:g}] "
            f"after {failures} consecutive failures"
        )
    for k, delay in enumerate(delays):
        gap = entries[k + 1].arrival - float(entries[k].answered or 0)
        assert gap >= delay - 0.05, (
            f"retry {k + 1} reached the server {gap:.3f}s after its failed answer, "
            f"before its backoff of {delay}s"
        )
    ctx.note(f"solo provider: {SOLO_FAILURES} retries after backoffs of {delays} s")


def check(ctx: ScenarioContext) -> None:
    topic = ctx.topic(TOPIC)
    topic.assert_completed().assert_llm_calls().assert_counts_consistent()
    topic.assert_file_matches(ctx.path("attributes"))
    code = ctx.facts["exit_code"]
    assert code == 0, f"orchestrator exited with {code}; log {ctx.facts['orchestrator_log']}"
    assert ctx.facts["orchestrator_running_when_breaker_opened"], "the run ended too soon"
    assert topic.summary()["batches"] == PRODUCERS * ITERATIONS

    calls = chat_spans(topic)
    cycles = topic.spans(n.GENERATION_CYCLE)
    # one chat span per request: every cycle that reached a provider has exactly one
    reached = [c for c in cycles if not c.attr(n.CYCLE_DEGRADED)]
    assert len(calls) == len(reached), (
        f"{len(calls)} chat spans for {len(reached)} generation cycles that called a provider"
    )
    attempts_of = {id(c): [e for e in c.events if e.name == n.EVENT_ATTEMPT] for c in calls}
    bad_count = [c for c in calls if len(attempts_of[id(c)]) != int(c.attr(n.LLM_ATTEMPTS, 0))]
    assert not bad_count, "llm.attempts != llm.attempt events:\n" + topic.evidence(bad_count[:3])
    failed_attempts = [
        (c, e) for c in calls for e in attempts_of[id(c)] if e.attributes.get(n.ERROR_TYPE)
    ]
    error_types = sorted({str(e.attributes[n.ERROR_TYPE]) for _, e in failed_attempts})
    for expected in ("429", "500", "connection_error"):
        assert expected in error_types, f"no failed attempt with error.type {expected}: " + (
            f"{error_types}\n" + topic.evidence([c for c, _ in failed_attempts[:5]])
        )
    # a request rescued by a retry or failover is not an error; its last attempt succeeded
    rescued = [c for c in calls if c.status != "ERROR" and len(attempts_of[id(c)]) > 1]
    assert rescued, "no request succeeded after a failed attempt"
    wrong = [c for c in rescued if attempts_of[id(c)][-1].attributes.get(n.ERROR_TYPE)]
    assert not wrong, "a successful chat span whose last attempt failed:\n" + topic.evidence(wrong)
    failed = [c for c in calls if c.status == "ERROR"]
    given_up = [c for c in failed if any(not e.attributes.get(n.ERROR_TYPE)
                                          for e in attempts_of[id(c)])]  # fmt: skip
    assert not given_up, "ERROR chat spans with a successful attempt:\n" + topic.evidence(given_up)
    # the servers' own counts (truth the tester holds) against the attempt events:
    # every answer a server gave is one successful attempt on it; every failure it
    # served is a failed attempt (a client-side connection error may add some)
    for name, served in ctx.facts["server_stats"].items():
        on_it = [e for c in calls for e in attempts_of[id(c)]
                 if e.attributes.get(n.LLM_PROVIDER) == name]  # fmt: skip
        ok = sum(1 for e in on_it if not e.attributes.get(n.ERROR_TYPE))
        served_failures = sum(v for k, v in served["outcomes"].items() if k != "ok")
        assert ok == served["outcomes"].get("ok", 0), (
            f"{name} answered {served['outcomes'].get('ok', 0)} requests, the trace has {ok} "
            "successful attempts on it"
        )
        assert len(on_it) - ok >= served_failures, (
            f"{name} failed {served_failures} requests, the trace has {len(on_it) - ok} "
            "failed attempts on it"
        )
    retries = list(events(topic, n.EVENT_RETRY))
    failovers = list(events(topic, n.EVENT_FAILOVER))
    opened = [e for _, e in events(topic, n.EVENT_BREAKER_CHANGE)
              if e.attributes.get(n.BREAKER_TO) == "open"]  # fmt: skip
    assert retries, "no llm.retry event in the trace"
    assert any(e.attributes.get(n.FAILOVER_TO) == "steady" for _, e in failovers), (
        "no failover from flaky to steady"
    )
    flaky_opened = [e for e in opened if e.attributes.get(n.LLM_PROVIDER) == "flaky"]
    assert flaky_opened, "flaky's breaker never opened"

    # once flaky was back: a probe (half-open) closed its breaker and it served again
    back = int(ctx.facts["back_at_ns"])
    closed = [
        e
        for _, e in events(topic, n.EVENT_BREAKER_CHANGE)
        if e.attributes.get(n.LLM_PROVIDER) == "flaky"
        and e.attributes.get(n.BREAKER_FROM) == "half_open"
        and e.attributes.get(n.BREAKER_TO) == "closed"
        and e.time_ns >= back
    ]
    assert closed, "flaky's breaker never closed after it came back (no successful probe)"
    served_again = [
        c for c in calls
        if c.attr(n.GENAI_REQUEST_MODEL) == "model-flaky" and c.status != "ERROR"
        and c.start_ns >= back
    ]  # fmt: skip
    assert served_again, "no successful call to flaky after it came back"

    attempts = [int(c.attr(n.CYCLE_ATTEMPTS) or 1) for c in cycles if c.status != "ERROR"]
    ctx.note(
        f"{len(calls)} chat spans (one per request), {len(failed)} failed, "
        f"{len(failed_attempts)} failed attempts ({', '.join(error_types)}), "
        f"{len(rescued)} requests rescued by a retry or failover; "
        f"{len(retries)} retries, {len(failovers)} failovers, "
        f"{len(opened)} breaker openings (flaky {len(flaky_opened)}), "
        f"{len(closed)} closings of flaky after it came back, "
        f"{len(served_again)} calls served by flaky after it came back; "
        f"max attempts in one cycle {max(attempts)}"
    )
    ctx.note(f"server outcomes: {o.readable(ctx.facts['server_stats'])}")
    o.judge(ctx, topic, ctx.path("attributes"), breaker=(BREAKER_FAILURES, BREAKER_COOLDOWN))
    ctx.record(topic)
    _check_solo(ctx)
