"""Disk and file errors, bad listen addresses, unreadable option files (issue 21 items
10, 12 and 16), each against a real process. A full disk is the file size limit
(RLIMIT_FSIZE, set in the child before it starts): the same EFBIG/ENOSPC path
through the kernel, without root or a tiny mount.
"""

from __future__ import annotations

import asyncio
import os
import resource
import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from system.webserver.control_client import OrchestratorClient
from tests.integration.orchestrator_proc import ROOT, Orchestrator, read_run_json, wait_for

pytestmark = pytest.mark.integration

RUN = ["--topic", "Lighthouses", "--producers", "1", "--iterations", "2"]


def _soft_file_limit(limit: int):
    def apply() -> None:  # soft limit only: the test raises it later, as freeing the disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))

    return apply


def _one_error_line(text: str, *needles: str) -> None:
    assert "Traceback" not in text, text
    lines = [line for line in text.splitlines() if "error" in line.lower()]
    assert len(lines) == 1, text
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_full_disk_at_a_fresh_start_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """Item 12: the lock file's pid cannot be written (OutputLock.acquire). Output to
    a pipe: the limit would stop the error line itself going to a log file."""
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "system.orchestrator", "--no-progress", *RUN, "--output", str(out)],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
        env={**os.environ, "OTEL_TRACES_EXPORTER": "none"}, preexec_fn=_soft_file_limit(2),
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    _one_error_line(done.stdout + done.stderr, str(out / ".lock"), "File too large", "ulimit -f")


@pytest.mark.parametrize("jsonl", ["missing", "out of step"])
def test_full_disk_at_resume_ends_the_run_with_one_line(tmp_path: Path, jsonl: str) -> None:
    """Item 12: attributes.jsonl cannot be written at resume (SupportFile.open): its
    records appended (missing) or the whole file rebuilt (out of step, through a
    .tmp that is removed). The run fails (exit 1) with one line naming the file."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "attributes.txt").write_text("".join(f"Lighthouse {i}\n" for i in range(300)))
    if jsonl == "out of step":
        (out / "attributes.jsonl").write_text("not a record\n")
    args = [*RUN, "--output", str(out), "--log-level", "warn"]
    with Orchestrator(args, tmp_path, preexec=_soft_file_limit(20_000)) as orch:
        assert orch.wait(60) == 1
        text = orch.log_text()
    assert "Traceback" not in text, text
    assert text.count("run failed: cannot open") == 1, text
    assert f"{out / 'attributes.jsonl'}: File too large" in text
    assert not (out / "attributes.jsonl.tmp").exists()
    assert read_run_json(out)["status"] == "failed"
    assert len((out / "attributes.txt").read_text().splitlines()) == 300


@pytest.mark.parametrize("name", ["attributes.jsonl", "attributes.jsonl.tmp"])
def test_a_support_file_that_is_a_directory_exits_2(tmp_path: Path, name: str) -> None:
    out = tmp_path / "out"
    (out / name).mkdir(parents=True)
    with Orchestrator([*RUN, "--output", str(out)], tmp_path) as orch:
        assert orch.wait(60) == 2
        _one_error_line(orch.log_text(), f"{out / name} exists and is not a regular file")


def test_a_symlinked_attributes_txt_is_refused(tmp_path: Path) -> None:
    """Item 16: a symbolic link would be followed and written through."""
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("Not an attribute\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "attributes.txt").symlink_to(elsewhere)
    with Orchestrator([*RUN, "--output", str(out)], tmp_path) as orch:
        assert orch.wait(60) == 2
        _one_error_line(orch.log_text(), "is a symbolic link")
    assert elsewhere.read_text() == "Not an attribute\n"


def test_a_port_in_use_and_a_bad_host_exit_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = [*RUN, "--output", str(tmp_path / "a"), "--port", str(port)]
        with Orchestrator(args, tmp_path) as orch:
            assert orch.wait(60) == 2
            _one_error_line(orch.log_text(), f"--port {port} is already in use")
    with Orchestrator(
        [*RUN, "--output", str(tmp_path / "b"), "--host", "999.1.1.1"], tmp_path
    ) as orch:
        assert orch.wait(60) == 2
        _one_error_line(orch.log_text(), "--host 999.1.1.1: not a usable address")


def test_an_env_file_that_is_not_utf8_exits_2(tmp_path: Path) -> None:
    env_file = tmp_path / "latin1.env"
    env_file.write_bytes(b"OPENAI_API_KEY=caf\xe9\n")
    args = [*RUN, "--output", str(tmp_path / "o"), "--provider", "env", "--env-file", str(env_file)]
    with Orchestrator(args, tmp_path) as orch:
        assert orch.wait(60) == 2
        _one_error_line(orch.log_text(), f"--env-file {env_file} is not UTF-8 text")


def test_an_access_token_file_that_is_not_utf8_exits_2(tmp_path: Path) -> None:
    token_file = tmp_path / "access.token"
    token_file.write_bytes(b"\xff\xfe-not-a-utf8-token-at-all\n")
    control = tmp_path / "control.token"
    control.write_text("c" * 32 + "\n")
    control.chmod(0o600)
    done = subprocess.run(
        [sys.executable, "-m", "system.webserver", "--port", "0", "--orchestrator",
         "127.0.0.1:9", "--control-token-file", str(control),
         "--access-token-file", str(token_file)],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    _one_error_line(done.stderr, f"{token_file} is not UTF-8 text")


async def _start_twice(control: tuple[str, int], token: str, pid: int) -> tuple[int, int]:
    client = OrchestratorClient(control[0], control[1], token, lambda event: None)
    client.start()
    try:
        for _ in range(600):
            if client.connected:
                break
            await asyncio.sleep(0.1)
        args = {"topic": "Lighthouses", "producers": 1, "iterations": 1}
        first = await client.request("start", args, timeout=60)
        # the disk is freed: the limit goes up for the running orchestrator
        psutil.Process(pid).rlimit(
            resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
        )
        second = await client.request("start", args, timeout=60)
        assert first.status == 507, first.body
        assert "File too large" in first.body["error"], first.body
        return first.status, second.status
    finally:
        await client.close()


def test_full_disk_at_a_web_start_is_507_and_keeps_no_lock(tmp_path: Path) -> None:
    """Item 10: the start is answered 507 with the reason, and the folder's lock is
    released: once there is room again, the same topic starts (not 409 until restart)."""
    token_file = tmp_path / "control.token"
    token = "t" * 40
    token_file.write_text(token + "\n")
    token_file.chmod(0o600)
    args = ["--control-port", "0", "--control-token-file", str(token_file)]
    args += ["--output-root", str(tmp_path / "output")]
    log = tmp_path / "orchestrator.log"
    with log.open("wb") as sink:  # a pipe would do too; the log is opened before the limit
        proc = subprocess.Popen(
            [sys.executable, "-m", "system.orchestrator", *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp_path,
            env={**os.environ, "OTEL_TRACES_EXPORTER": "none"},
            preexec_fn=_soft_file_limit(2), start_new_session=True,
        )  # fmt: skip
        try:
            assert proc.stdout is not None
            os.set_blocking(proc.stdout.fileno(), False)
            seen = bytearray()

            def ready() -> str | None:
                chunk = proc.stdout.read() if proc.stdout else None  # type: ignore[union-attr]
                if chunk:
                    seen.extend(chunk)
                    sink.write(chunk)
                text = seen.decode(errors="replace")
                marker = "control listening on "
                return text.split(marker, 1)[1].split()[0] if marker in text else None

            host, port = wait_for(ready, 60, "the control port").rsplit(":", 1)
            _, second = asyncio.run(_start_twice((host, int(port)), token, proc.pid))
            assert second == 200
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
    summary = tmp_path / "output"
    assert any(summary.rglob("attributes.txt")), list(summary.rglob("*"))
