"""Bad content from a model never stalls a run (issue 10).

An answer holding a lone surrogate (valid JSON ``"\\ud800"``) once killed a
producer's generation task; nothing noticed and the run never ended. Here
the fake LLM server serves such answers over real HTTP to real producers:
the run ends, and the file holds only clean text. A producer task that dies
of any unexpected exception (injected here at process start-up through
``sitecustomize``: a test-only fault, the product has no hook for it) makes
the producer exit non-zero at once, with the exception on its spans; the
orchestrator restarts it and the run completes.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from tester.collector import Collector
from tester.constellation import OrchestratorConfig, ServiceConstellation
from tester.fake_llm import FakeLLMServer
from tester.topic import Topic

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]

#: answers no model should send but some do (json.dumps keeps the lone surrogates as escapes)
BAD_ANSWERS = [
    "Louvre\n\ud800\nMus\u200bée d'Orsay\n\udfff Sainte-Chapelle",
    "1. Eiffel Tower\ud83d\n2. \x00Notre-\x1b[31mDame\u202e\n3. \ufeff東京タワー",
    "\ud800" * 50,
    "Panthéon (A-F)\n| Name |\n|---|\n| Arc de Triomphe |\n" + "x" * 100_000,
]
FORBIDDEN = frozenset({"Cc", "Cf", "Cs"})


def _answers_file(tmp_path: Path, answers: list[str]) -> Path:
    path = tmp_path / "answers.jsonl"
    path.write_text("".join(json.dumps(a) + "\n" for a in answers), encoding="ascii")
    return path


def _llm_args(server: FakeLLMServer, tmp_path: Path) -> list[str]:
    return [
        "--llm", f"name=fake,base_url={server.base_url},model=m",
        "--env-file", str(tmp_path / "none.env"),
    ]  # fmt: skip


def test_answers_with_lone_surrogates_and_control_characters_end_the_run(tmp_path):
    answers = _answers_file(tmp_path, BAD_ANSWERS)
    with (
        FakeLLMServer(model="m", answers=answers, log_path=tmp_path / "fake.log") as server,
        Collector() as collector,
        ServiceConstellation(collector.http_endpoint, tmp_path / "run") as constellation,
    ):
        config = OrchestratorConfig(
            topic="Paris attractions",
            producers=2,
            iterations=4,
            provider="env",
            extra_args=_llm_args(server, tmp_path),
        )
        orchestrator = constellation.start_orchestrator(config)
        assert orchestrator.wait(timeout=120) == 0, orchestrator.log_text()[-3000:]
        topic = Topic.wait_for_topic(config.topic, collector, timeout=60)
        topic.assert_completed().assert_counts_consistent()
        out = constellation.output_dir_for(config) / "attributes.txt"
        topic.assert_file_matches(out)
        lines = out.read_bytes().decode("utf-8").splitlines()  # strict: valid UTF-8
        assert all(not any(unicodedata.category(ch) in FORBIDDEN for ch in line) for line in lines)
        assert {"Louvre", "Musée d'Orsay", "Sainte-Chapelle", "Eiffel Tower", "Notre-Dame",
                "東京タワー", "Panthéon", "Arc de Triomphe"} == set(lines)  # fmt: skip
        assert topic.summary()["restarts"] == 0
        assert server.stats()["outcomes"]["ok"] == 8


SITECUSTOMIZE = """
import os
marker = os.environ.get("BAD_CONTENT_FAULT_MARKER")
if marker:
    import system.producer.generation as generation
    real = generation.parse_response
    def parse_response(*args, **kwargs):
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)  # the first call only
        except FileExistsError:
            return real(*args, **kwargs)
        os.close(fd)
        raise RuntimeError("injected fault in the generation task")
    generation.parse_response = parse_response
"""


def test_a_generation_task_that_dies_fails_its_producer_which_is_restarted(tmp_path):
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(SITECUSTOMIZE)
    marker = tmp_path / "fault-fired"
    import os

    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(hook), str(ROOT)]),
        "BAD_CONTENT_FAULT_MARKER": str(marker),
    }
    with (
        Collector() as collector,
        ServiceConstellation(collector.http_endpoint, tmp_path / "run", env=env) as constellation,
    ):
        config = OrchestratorConfig(topic="Museums of Oslo", producers=2, iterations=5)
        orchestrator = constellation.start_orchestrator(config)
        assert orchestrator.wait(timeout=120) == 0, orchestrator.log_text()[-3000:]
        assert marker.exists(), "the fault never fired"
        topic = Topic.wait_for_topic(config.topic, collector, timeout=60)
        topic.assert_completed().assert_restarts(1).assert_counts_consistent()
        lost = topic.spans("producer.lost")
        assert len(lost) == 1 and lost[0].attr("process.exit.code") == 1
        failed = [s for s in topic.spans("producer.run") if s.status == "ERROR"]
        assert len(failed) == 1, [s.status for s in topic.spans("producer.run")]
        assert "injected fault" in failed[0].status_message
        assert any(e.name == "exception" for e in failed[0].events)
        reason = failed[0].attr("producer.stop_reason")
        assert reason == "internal error in generation: RuntimeError"
        cycles = [s for s in topic.spans("generation.cycle") if s.status == "ERROR"]
        assert len(cycles) == 1 and any(e.name == "exception" for e in cycles[0].events)
        assert topic.root.attr("run.batch_count") == 10  # the restarted slot did all its work
        logs = "".join(p.read_text() for p in (tmp_path / "run" / "logs").rglob("*.log"))
        assert "producer task 'generation' failed: RuntimeError" in logs
