"""Stand-ins for the system's peers: a TCP port that never answers, a closed port,
a producer started by hand, raw frames. Scenarios only; the tester does not import system."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
from pathlib import Path

import msgpack
import psutil


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SilentServer:
    """Accepts TCP connections on 127.0.0.1 and never sends a byte."""

    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.address: tuple[str, int] = self._sock.getsockname()[:2]
        self.accepted = 0
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="silent-server", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            self._held.append(conn)  # held open, never read or written

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for conn in [*self._held, self._sock]:
            with contextlib.suppress(OSError):
                conn.close()


class HandStartedProducer:
    """``python -m system.producer --id N --connect HOST:PORT`` with the token on stdin
    (kept open, as the orchestrator does), in its own process group, logging to a file."""

    def __init__(self, producer_id: int, address: tuple[str, int], token: str, log: Path) -> None:
        log.parent.mkdir(parents=True, exist_ok=True)
        self.log_path = log
        argv = [
            sys.executable,
            "-m",
            "system.producer",
            "--id",
            str(producer_id),
            "--connect",
            f"{address[0]}:{address[1]}",
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_EXPORTER_OTLP")}
        with open(log, "ab") as out:
            self.popen = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        assert self.popen.stdin is not None
        self.popen.stdin.write(token.encode() + b"\n")
        self.popen.stdin.flush()

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def group_alive(self) -> list[int]:
        alive = []
        for proc in psutil.process_iter(["pid"]):
            with contextlib.suppress(ProcessLookupError, psutil.Error):
                if os.getpgid(proc.pid) == self.popen.pid and proc.status() != "zombie":
                    alive.append(proc.pid)
        return alive

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(5)
        if self.popen.stdin:
            with contextlib.suppress(OSError):
                self.popen.stdin.close()


def frame(payload: bytes) -> bytes:
    """A protocol frame: 4-byte big-endian length, then the payload (docs/ARCHITECTURE.md)."""
    return struct.pack(">I", len(payload)) + payload


def hello(producer_id: int, token: str, pid: int) -> bytes:
    """A Hello frame as the documented protocol spells it (MessagePack map with ``t``)."""
    body = {"t": "hello", "tc": {}, "producer_id": producer_id, "token": token, "pid": pid}
    return frame(msgpack.packb({**body, "protocol_version": 1}, use_bin_type=True))


def send_and_drain(address: tuple[str, int], payload: bytes, timeout: float = 30) -> bytes:
    """Send raw bytes, then read until the peer closes the connection."""
    with socket.create_connection(address, timeout=timeout) as sock:
        sock.sendall(payload)
        chunks = []
        while chunk := sock.recv(4096):
            chunks.append(chunk)
        return b"".join(chunks)
