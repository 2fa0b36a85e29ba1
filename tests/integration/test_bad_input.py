"""Bad command-line input: a one-line error, exit 2, nothing spawned, nothing written."""

from __future__ import annotations

import pytest

from tests.conftest import run_cli

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--topic", ""], "topic must not be empty"),
        (["--topic", "   "], "topic must not be empty"),
        (["--topic", "../../etc"], "'..'"),
        (["--topic", "a/b"], "'/'"),
        (["--topic", "bad\ttopic"], "control characters"),
        (["--topic", "ok", "--producers", "0"], "producers must be between 1 and 256"),
        (["--topic", "ok", "--producers", "-3"], "producers must be between"),
        (["--topic", "ok", "--producers", "100000"], "producers must be between"),
        (["--topic", "ok", "--producers", "many"], "invalid int value"),
        (["--topic", "ok", "--request-size", "0"], "request size must be between"),
        (["--topic", "ok", "--iterations", "0"], "iterations must be between"),
        (["--topic", "ok", "--provider", "magic"], "unknown provider 'magic'"),
        (
            [
                "--topic",
                "ok",
                "--provider",
                "env",
                "--llm",
                "name=x,base_url=http://127.0.0.1:9/v1,model=m,key_env=TE_SURELY_UNSET_KEY",
            ],
            "no API key for provider(s) x",
        ),
        (
            [
                "--topic",
                "ok",
                "--provider",
                "env",
                "--llm",
                "name=x,base_url=http://h/v1,model=m,key=sk-1",
            ],
            "not accepted on the command line",
        ),
        (["--topic", "ok", "--trace-ep", "localhost:4318"], "must be an http"),
        (["--topic", "ok", "--port", "70000"], "--port"),
        (["--producers", "2"], "only apply with --topic"),
        (["--topic", "ok", "--bogus"], "unrecognized arguments"),
    ],
)
def test_bad_arguments_fail_fast_with_one_line(tmp_path, args, message):
    result = run_cli("system.orchestrator", *args, cwd=tmp_path, timeout=60)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "output").exists()  # nothing created, nothing spawned


def test_unwritable_output_directory(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = run_cli(
        "system.orchestrator", "--topic", "ok", "--output", str(blocker / "x"), timeout=60
    )
    assert result.returncode == 2
    assert "cannot create output directory" in result.stderr


def test_producer_without_orchestrator_exits_with_a_clear_error(tmp_path):
    import socket
    import subprocess
    import sys

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # stdin stays open (an orchestrator alive but unreachable): at its EOF the producer
    # stops at once, as it must when its parent dies (issue 13 item 9)
    log_path = tmp_path / "producer.log"
    with log_path.open("wb") as log:
        address = f"127.0.0.1:{port}"
        proc = subprocess.Popen(
            [sys.executable, "-m", "system.producer", "--id", "1", "--connect", address],
            stdin=subprocess.PIPE,
            stderr=log,
        )
        assert proc.stdin is not None
        proc.stdin.write(b"some-token\n")
        proc.stdin.flush()
        try:
            code = proc.wait(timeout=60)
        finally:
            proc.kill()
            proc.stdin.close()
    assert code == 3
    assert "cannot reach the orchestrator" in log_path.read_text()
