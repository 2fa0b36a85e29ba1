"""Malformed frames, a wrong token and edge values on the producer port mid-run: rejected."""

from __future__ import annotations

import signal
import struct

import msgpack

from scenarios._peers import frame, hello, send_and_drain
from tester.constellation import OrchestratorConfig
from tester.scenario import ScenarioContext

CONFIG = OrchestratorConfig(
    topic="Lighthouses", producers=2, iterations=None, extra_args=["--sim-latency-ms", "10"]
)
WRONG_TOKEN = "guessed-token-123"
ATTACKS = {
    "wrong token": hello(1, WRONG_TOKEN, 1),
    "garbage": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    "oversized length": struct.pack(">I", 2**31) + b"x" * 100,
    "undecodable frame": frame(b"\xc1\xc1\xc1"),
    "not a hello": frame(msgpack.packb({"t": "stop", "tc": {}, "reason": "x"})),
    # input truth: edge values in an otherwise well-formed hello
    "empty token": hello(1, "", 1),
    "token of another type": frame(msgpack.packb(
        {"t": "hello", "tc": {}, "producer_id": 1, "token": 12345, "pid": 1})),
    "producer id 0": hello(0, WRONG_TOKEN, 1),
    "producer id huge": hello(10**9, WRONG_TOKEN, 1),
    "producer id as text": frame(msgpack.packb(
        {"t": "hello", "tc": {}, "producer_id": "1", "token": WRONG_TOKEN, "pid": 1})),
    "empty frame": frame(b""),
}  # fmt: skip
EXPECTED_REASONS = ("wrong token", "exceeds", "MessagePack", "expected hello")


def run(ctx: ScenarioContext) -> None:
    constellation = ctx.constellation()
    orchestrator = constellation.start_orchestrator(CONFIG)
    address = constellation.orchestrator_address
    assert address is not None
    ctx.fact_path("attributes", constellation.output_dir_for(CONFIG) / "attributes.txt")
    ctx.store.wait_for(lambda s: s.name == "batch.receive", ctx.timeout, count=4)
    answers = {name: send_and_drain(address, payload) for name, payload in ATTACKS.items()}
    ctx.fact("answered", [name for name, answer in answers.items() if answer])
    ctx.store.wait_for(lambda s: s.name == "connection.rejected", ctx.timeout, count=len(ATTACKS))
    # the run goes on: more batches after the last attack
    before = len(ctx.store.by_name("batch.receive"))
    ctx.store.wait_for(lambda s: s.name == "batch.receive", ctx.timeout, count=before + 4)
    orchestrator.signal(signal.SIGTERM)
    ctx.fact("exit_code", orchestrator.wait(timeout=60))
    ctx.fact("token_in_log", WRONG_TOKEN in orchestrator.log_text())


def check(ctx: ScenarioContext) -> None:
    assert not ctx.facts["answered"], f"the orchestrator answered {ctx.facts['answered']}"
    assert ctx.facts["exit_code"] == 0, f"orchestrator exited {ctx.facts['exit_code']}"
    assert not ctx.facts["token_in_log"], "the presented token was written to the log"
    topic = ctx.topic(CONFIG.topic)
    topic.assert_stopped().assert_no_errors().assert_complete_trace().assert_counts_consistent()
    topic.assert_file_matches(ctx.path("attributes"))
    q = topic.query()
    rejected = q.name("connection.rejected").exactly(len(ATTACKS))
    q.name("topic.run").children().name("connection.rejected").exactly(len(ATTACKS))
    reasons = " | ".join(str(r) for r in rejected.attr_values("connection.reject_reason"))
    missing = [r for r in EXPECTED_REASONS if r not in reasons]
    if missing:
        rejected.fail(f"reject reasons {missing} not among: {reasons}")
    rejected.where(lambda s: WRONG_TOKEN in str(dict(s.attributes))).none()
    # unaffected: batches kept arriving after the last rejection
    last = rejected.by_end()[-1]
    q.name("batch.receive").where(lambda s: s.start_ns > last.end_ns).at_least(4)
    ctx.note(f"{len(rejected)} connections rejected: {reasons}")
    ctx.record(topic)
