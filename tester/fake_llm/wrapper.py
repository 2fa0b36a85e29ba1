"""``FakeLLMServer``: the fake server as a subprocess in its own process group.

    with FakeLLMServer(model="model-a", plan="ok*5,429*3") as server:
        server.base_url          # http://127.0.0.1:PORT/v1
        server.set_plan("down:5s,ok")
        server.stats()["outcomes"]

Its output goes to ``log_path`` (or is discarded); leaving the ``with``
block (or ``stop()``) terminates the whole group.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tester.endpoint import LocalEndpoint
from tester.fake_llm import seeding

_LISTENING = re.compile(r"fake-llm listening on (\S+):(\d+)")


class FakeLLMServer(LocalEndpoint):
    def __init__(
        self,
        *,
        model: str = "fake-model",
        plan: str = "",
        retry_after: float = 1.0,
        latency_ms: float = 0.0,
        require_key_env: str | None = None,
        known: int | None = None,
        noise: str = "none",
        universe: int | None = None,
        response_model: str | None = None,
        seed: int | None = None,
        answers: Path | None = None,
        log_path: Path | None = None,
        env: Mapping[str, str] | None = None,
        ready_timeout: float = 30.0,
    ) -> None:
        self.model = model
        self.argv = [
            sys.executable, "-m", "tester.fake_llm", "--model", model, "--plan", plan,
            "--retry-after", str(retry_after), "--latency-ms", str(latency_ms),
        ]  # fmt: skip
        if known:
            self.argv += ["--known", str(known)]
        self.argv += ["--noise", noise]
        if universe is not None:
            self.argv += ["--universe", str(universe)]
        if response_model:
            self.argv += ["--response-model", response_model]
        self.seed = seeding.server_seed(f"{model}:{log_path.stem if log_path else ''}", seed)
        self.argv += ["--seed", str(self.seed)]
        if answers is not None:
            self.argv += ["--answers", str(answers)]
        if require_key_env:
            self.argv += ["--require-key-env", require_key_env]
        self.log_path = log_path
        self.env = dict(os.environ if env is None else env)
        self.ready_timeout = ready_timeout
        self.popen: subprocess.Popen[bytes] | None = None
        self.host = "127.0.0.1"
        self.port = 0

    # ------------------------------------------------------------ lifecycle
    def start(self) -> FakeLLMServer:
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            stderr: Any = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        else:
            stderr = subprocess.DEVNULL
        try:
            self.popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr,
                env=self.env,
                start_new_session=True,
            )
        finally:
            if stderr is not subprocess.DEVNULL:
                stderr.close()
        assert self.popen.stdout is not None
        deadline = time.monotonic() + self.ready_timeout
        line = b""
        while time.monotonic() < deadline:
            line = self.popen.stdout.readline()  # the first line is the port; nothing follows
            if not line:
                break
            match = _LISTENING.search(line.decode(errors="replace"))
            if match:
                self.host, self.port = match.group(1), int(match.group(2))
                return self
        self.stop()
        raise RuntimeError(f"fake LLM server did not start (last output {line!r})")

    def stop(self, grace_s: float = 5.0) -> None:
        popen = self.popen
        if popen is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(popen.pid, signal.SIGTERM)
        try:
            popen.wait(grace_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(popen.pid, signal.SIGKILL)
            popen.wait(grace_s)
        if popen.stdout is not None:
            popen.stdout.close()
        self.popen = None

    # ------------------------------------------------------------ use

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.root_url + path, data=data, method=method,
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def set_plan(self, plan: str, **options: float) -> dict[str, Any]:
        """Replace the fault plan (options: retry_after, slow_ms, hang_s, latency_ms)."""
        return self._call("POST", "/control/plan", {"plan": plan, **options})

    def stats(self) -> dict[str, Any]:
        return self._call("GET", "/control/stats")

    def ledger(self) -> Any:
        """The server's ledger (``tester.fake_llm.ledger.Ledger``), fetched over HTTP."""
        from tester.fake_llm.ledger import Ledger

        return Ledger.from_dict(self._call("GET", "/control/ledger"))

    def reset_stats(self) -> dict[str, Any]:
        return self._call("POST", "/control/reset", {})
