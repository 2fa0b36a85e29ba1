"""ServiceConstellation: the system's processes, started for real and torn down for sure.

The tester knows the system only by its command line: ``python -m
system.orchestrator`` (override with ``TESTER_ORCHESTRATOR_CMD``, a
shell-style command). Every constellation has its own work directory (logs,
output) and ports, so many can run side by side.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from tester.constellation.process import ManagedProcess, StartupError
from tester.constellation.web import (
    CONTROL_READY,
    WEB_READY,
    WebMode,
    wait_for_log,
    wait_healthy,
    webserver_command,
)

__all__ = ["OrchestratorConfig", "ServiceConstellation", "StartupError"]

_LISTENING = re.compile(r"listening on (\S+):(\d+)")
_ORCHESTRATOR_CMD_ENV = "TESTER_ORCHESTRATOR_CMD"


@dataclass
class OrchestratorConfig:
    topic: str
    producers: int = 3
    iterations: int | None = 10
    provider: str = "test"
    request_size: int = 60
    output_dir: Path | None = None
    log_level: str = "info"
    extra_args: list[str] = field(default_factory=list)

    def argv(self, output_dir: Path, log_dir: Path, trace_ep: str | None) -> list[str]:
        args = [
            "--topic",
            self.topic,
            "--producers",
            str(self.producers),
            "--provider",
            self.provider,
            "--request-size",
            str(self.request_size),
            "--output",
            str(output_dir),
            "--log-level",
            self.log_level,
            "--log-dir",
            str(log_dir),
            "--no-progress",
        ]
        if self.iterations is not None:
            args += ["--iterations", str(self.iterations)]
        if trace_ep:
            args += ["--trace-ep", trace_ep]
        return args + list(self.extra_args)


_NOT_INHERITED = ("TRACEPARENT", "TRACESTATE", "OTEL_SERVICE_NAME")


class ServiceConstellation:
    def __init__(
        self,
        trace_endpoint: str | None,
        workdir: Path,
        *,
        env: Mapping[str, str] | None = None,
        bsp_delay_ms: int = 200,
    ) -> None:
        self.trace_endpoint = trace_endpoint
        self.workdir = Path(workdir)
        self.log_dir = self.workdir / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        base = dict(os.environ if env is None else env)
        for key in list(base):
            # the tester's own trace settings (OTEL_SERVICE_NAME: the contract's
            # service names are the processes' roles, the system refuses another)
            if key.startswith("OTEL_EXPORTER_OTLP") or key in _NOT_INHERITED:
                del base[key]
        base.setdefault("OTEL_BSP_SCHEDULE_DELAY", str(bsp_delay_ms))
        base["PYTHONUNBUFFERED"] = "1"
        self.env = base
        self.processes: list[ManagedProcess] = []
        self.orchestrator_address: tuple[str, int] | None = None
        self.web: WebMode | None = None  # set by start_web_mode
        self._runs = 0

    # ------------------------------------------------------------- starting
    def orchestrator_command(self) -> list[str]:
        custom = os.environ.get(_ORCHESTRATOR_CMD_ENV)
        return shlex.split(custom) if custom else [sys.executable, "-m", "system.orchestrator"]

    def output_dir_for(self, config: OrchestratorConfig) -> Path:
        if config.output_dir is not None:
            return Path(config.output_dir)
        return self.workdir / "output" / f"run-{self._runs}"

    def start_orchestrator(
        self, config: OrchestratorConfig, *, ready_timeout: float = 60.0
    ) -> ManagedProcess:
        """Start the orchestrator in CLI mode and wait until it listens for producers."""
        self._runs += 1
        output_dir = self.output_dir_for(config)
        name = "orchestrator" if self._runs == 1 else f"orchestrator-{self._runs}"
        log_dir = self.log_dir if self._runs == 1 else self.log_dir / name
        argv = self.orchestrator_command() + config.argv(output_dir, log_dir, self.trace_endpoint)
        process = ManagedProcess(name, argv, log_path=self.log_dir / f"{name}.log", env=self.env)
        process.output_dir = output_dir
        self.processes.append(process)
        self.orchestrator_address = self._wait_listening(process, ready_timeout)
        return process

    def _wait_listening(self, process: ManagedProcess, timeout: float) -> tuple[str, int]:
        match = wait_for_log(process, _LISTENING, timeout)
        return match.group(1), int(match.group(2))

    def start_web_mode(
        self,
        *,
        log_level: str = "info",
        access_token: str | None = None,
        ready_timeout: float = 60.0,
        orchestrator_args: Sequence[str] = (),
    ) -> WebMode:
        """Start the orchestrator in web mode and the webserver (port 0) in front of it;
        ``orchestrator_args`` are options every web run uses (levers, stop rules)."""
        self._runs += 1
        token_file = self.workdir / "control.token"
        output_root = self.workdir / "output"
        trace = ["--trace-ep", self.trace_endpoint] if self.trace_endpoint else []
        argv = [
            *self.orchestrator_command(),
            "--control-port", "0",
            "--control-token-file", str(token_file),
            "--output-root", str(output_root),
            "--log-dir", str(self.log_dir),
            "--log-level", log_level,
            *trace,
            *orchestrator_args,
        ]  # fmt: skip
        orchestrator = ManagedProcess(
            "orchestrator", argv, log_path=self.log_dir / "orchestrator.log", env=self.env
        )
        self.processes.append(orchestrator)
        match = wait_for_log(orchestrator, CONTROL_READY, ready_timeout)
        control = (match.group(1), int(match.group(2)))
        env = dict(self.env)
        if access_token is not None:
            env["WEBSERVER_ACCESS_TOKEN"] = access_token
        argv = [
            *webserver_command(),
            "--port", "0",
            "--orchestrator", f"{control[0]}:{control[1]}",
            "--control-token-file", str(token_file),
            "--log-level", log_level,
            *trace,
        ]  # fmt: skip
        webserver = ManagedProcess(
            "webserver", argv, log_path=self.log_dir / "webserver.log", env=env
        )
        self.processes.append(webserver)
        url = wait_for_log(webserver, WEB_READY, ready_timeout).group(1)
        wait_healthy(url, webserver, ready_timeout)
        self.web = WebMode(url, control, output_root, orchestrator, webserver)
        return self.web

    def adopt(self, process: ManagedProcess) -> ManagedProcess:
        """A process started elsewhere (a local LLM server...) that this constellation
        stops with the rest (after the system's processes) and counts among leftovers."""
        self.processes.insert(0, process)
        return process

    # ------------------------------------------------------------- inspecting
    def producer_processes(self) -> list[psutil.Process]:
        found = []
        for process in self.processes:
            for member in process.group_members():
                try:
                    if "system.producer" in " ".join(member.cmdline()):
                        found.append(member)
                except psutil.Error:
                    continue
        return found

    def leftover_processes(self) -> list[psutil.Process]:
        left: list[psutil.Process] = []
        for process in self.processes:
            left.extend(process.group_members())
        return left

    def log_files(self) -> list[Path]:
        return sorted(self.log_dir.rglob("*.log"))

    # ------------------------------------------------------------- stopping
    def stop(self, grace_s: float = 20.0) -> None:
        for process in reversed(self.processes):
            process.stop(grace_s)

    def __enter__(self) -> ServiceConstellation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
