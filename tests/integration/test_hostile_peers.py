"""Hostile or broken peers on the orchestrator's producer port do not disturb a run."""

from __future__ import annotations

import os
import signal
import socket
import struct

import msgpack
import psutil
import pytest

from system.protocol import Hello, encode_frame, encode_message
from tester.constellation import OrchestratorConfig
from tester.topic import Topic

pytestmark = pytest.mark.integration


def _send(address: tuple[str, int], payload: bytes) -> bytes:
    """Send raw bytes, then read until the orchestrator closes the connection."""
    with socket.create_connection(address, timeout=30) as sock:
        sock.sendall(payload)
        chunks = []
        while chunk := sock.recv(4096):
            chunks.append(chunk)
        return b"".join(chunks)


def test_bad_peers_are_rejected_and_the_run_is_unaffected(collector, constellation):
    config = OrchestratorConfig(
        topic="Lighthouses", producers=2, iterations=None, extra_args=["--sim-latency-ms", "10"]
    )
    orchestrator = constellation.start_orchestrator(config)
    address = constellation.orchestrator_address
    assert address is not None
    collector.store.wait_for(lambda s: s.name == "batch.receive", timeout=60, count=4)
    rss_before = psutil.Process(orchestrator.pid).memory_info().rss

    attacks = {
        "wrong token": encode_frame(encode_message(Hello(producer_id=1, token="guess", pid=1))),
        "garbage": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "oversized length": struct.pack(">I", 2**31) + b"x" * 100,
        "undecodable frame": encode_frame(b"\xc1\xc1\xc1"),
        "not a hello": encode_frame(msgpack.packb({"t": "stop", "reason": "x"})),
    }
    for name, payload in attacks.items():
        assert _send(address, payload) == b"", f"{name}: the orchestrator answered"
    rejected = collector.store.wait_for(
        lambda s: s.name == "connection.rejected", timeout=60, count=len(attacks)
    )
    assert len(rejected) == len(attacks)
    reasons = " | ".join(str(s.attr("connection.reject_reason")) for s in rejected)
    for expected in ("wrong token", "exceeds", "MessagePack", "expected hello"):
        assert expected in reasons

    before = len(collector.store.by_name("batch.receive"))
    collector.store.wait_for(lambda s: s.name == "batch.receive", timeout=60, count=before + 4)
    assert psutil.Process(orchestrator.pid).memory_info().rss < rss_before + 50 * 2**20

    os.kill(orchestrator.pid, signal.SIGINT)
    assert orchestrator.wait(timeout=60) == 0
    topic = Topic.wait_for_topic(config.topic, collector, timeout=60)
    topic.assert_stopped().assert_no_errors().assert_complete_trace().assert_counts_consistent()
    topic.assert_file_matches(constellation.output_dir_for(config) / "attributes.txt")
    assert "guess" not in orchestrator.log_text()
