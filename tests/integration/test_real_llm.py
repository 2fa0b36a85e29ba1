"""The real small LLM: the llama.cpp server helper and the real-llm scenario.

The tests that need the model skip, with the reason, when the ``local-llm``
extra is not installed. The others hold in both states: without the extra the
reason names the missing server (checked first), with it the missing model
file. .ci/run runs the whole suite as the README leaves a newcomer (no extra),
then this module (marker ``local_llm``) again with the extra installed.
"""

from __future__ import annotations

import json
import re
import socket
import xml.etree.ElementTree as ET

import psutil
import pytest

from tester.constellation import ServiceConstellation
from tester.local_llm import (
    LocalLLM,
    LocalLLMUnavailable,
    find_model,
    server_missing,
    unavailable_reason,
)
from tests.conftest import run_cli

pytestmark = [pytest.mark.integration, pytest.mark.local_llm]

REASON = unavailable_reason()
needs_llm = pytest.mark.skipif(REASON is not None, reason=REASON or "")


def _reason_for_missing(model_file: str) -> str:
    """What the reason must say here for a model file that does not exist: the
    missing server without the local-llm extra, the file's name with it."""
    return "not installed" if server_missing() else model_file


def _port_closed(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@needs_llm
def test_local_llm_answers_on_a_free_port_and_stops_its_whole_group(tmp_path):
    llm = LocalLLM(log_path=tmp_path / "llama.log")
    with llm:
        assert llm.base_url.startswith("http://127.0.0.1:") and llm.port > 0
        answer = llm.chat("Name one planet of the Solar System.", max_tokens=16)
        assert answer.strip()
        assert llm.process is not None
        members = llm.process.group_members()
        assert members
    assert not llm.process.is_running()
    assert not any(m.is_running() for m in members if _alive(m))
    assert _port_closed(llm.port)
    assert "Uvicorn running on http://127.0.0.1:" in (tmp_path / "llama.log").read_text()


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


@needs_llm
def test_a_constellation_stops_the_llm_it_adopted(tmp_path):
    constellation = ServiceConstellation(None, tmp_path)
    llm = LocalLLM(log_path=tmp_path / "logs" / "llama.log").start()
    assert llm.process is not None
    constellation.adopt(llm.process)
    assert constellation.leftover_processes()  # counted while it runs
    constellation.stop()
    assert not llm.process.is_running() and not constellation.leftover_processes()


def test_a_missing_model_file_is_a_clear_reason(tmp_path):
    missing = tmp_path / "nope.gguf"
    with pytest.raises(LocalLLMUnavailable, match=r"model file .*nope\.gguf does not exist"):
        find_model(missing)
    expected = _reason_for_missing("nope.gguf")
    reason = unavailable_reason(missing)
    assert reason is not None and expected in reason
    with pytest.raises(LocalLLMUnavailable, match=re.escape(expected)):
        LocalLLM(model_path=missing).start()


@needs_llm
@pytest.mark.timeout(1500)  # 6 real requests, one at a time, on cores the suite shares
def test_real_llm_scenario_passes_with_junit_and_json(tmp_path):
    result = run_cli(
        "tester", "--scenario", "real-llm", "--workdir", str(tmp_path / "run"),
        "--json", str(tmp_path / "summary.json"), "--junit", str(tmp_path / "junit.xml"),
        timeout=1200,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-3000:]
    assert "scenario real-llm PASSED" in result.stdout
    assert "chemical-elements:" in result.stdout  # the truth-set score is reported
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["passed"] == 1 and summary["skipped"] == 0
    assert (tmp_path / "run" / "logs" / "llama-server.log").exists()
    replay = run_cli("tester", "--replay", str(tmp_path / "run"), timeout=120)
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "replay real-llm PASSED" in replay.stdout


def test_real_llm_scenario_is_skipped_with_its_reason_without_the_model(tmp_path):
    result = run_cli(
        "tester", "--scenario", "real-llm,basic", "--workdir", str(tmp_path / "run"),
        "--json", str(tmp_path / "summary.json"), "--junit", str(tmp_path / "junit.xml"),
        env={"TESTER_LOCAL_LLM_MODEL": str(tmp_path / "absent.gguf")}, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    expected = _reason_for_missing("absent.gguf")
    skip_line = [s for s in result.stdout.splitlines() if "scenario real-llm SKIPPED:" in s]
    assert len(skip_line) == 1 and expected in skip_line[0], result.stdout[-3000:]
    assert "1 passed, 0 failed, 1 skipped" in result.stdout
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert (summary["passed"], summary["failed"], summary["skipped"]) == (1, 0, 1)
    skipped = next(s for s in summary["scenarios"] if s["name"] == "real-llm")
    assert skipped["status"] == "skipped" and expected in skipped["detail"]
    suite = ET.parse(tmp_path / "junit.xml").getroot()
    assert (suite.get("skipped"), suite.get("failures"), suite.get("errors")) == ("1", "0", "0")
    case = next(c for c in suite.iter("testcase") if c.get("name") == "real-llm")
    node = case.find("skipped")
    assert node is not None and expected in (node.get("message") or "")
    # a replay of the skipped scenario skips it again (nothing to judge)
    replay = run_cli("tester", "--replay", str(tmp_path / "run" / "real-llm"), timeout=120)
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "replay real-llm SKIPPED" in replay.stdout
