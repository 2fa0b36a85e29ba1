"""A hostile OpenAI-compatible server for the hostile-provider tests.

It answers every ``POST .../chat/completions`` the way its ``mode`` says,
and records each request: when it came, when the server saw the client give
up (a write that failed) and how many body bytes it had sent by then, so a
test can check from the server's side that the producer bounded its wait
and its read. Modes:

* ``trickle``: headers and then one byte every ``TRICKLE_EVERY_S``, for ever;
* ``huge``: a valid answer of ``HUGE_BYTES``, written as fast as the client
  reads, its length declared (``huge``) or not (``huge_undeclared``: the end
  of the body is the end of the connection), or gzipped in spite of the
  client's ``Accept-Encoding: identity`` (``gzip_bomb``: about 150 KB that
  inflate to ``BOMB_BYTES``);
* ``retry_after``: 429 with ``Retry-After: 1000000000``;
* ``status:N``: an empty error answer with HTTP status N (401, 403...);
* ``body:NAME``: status 200 and the raw body ``BODIES[NAME]``.

Modes joined by ``|`` take turns: request i gets mode i modulo their number.
"""

from __future__ import annotations

import functools
import gzip
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TRICKLE_EVERY_S = 0.2
HUGE_BYTES = 100 * 1024 * 1024
BOMB_BYTES = 32 * 1024 * 1024  # what the gzip bomb inflates to (8 times the cap)
#: items of the hostile answers: never in the output when the answer is refused
HOSTILE_ITEMS = ("Hostile Alpha Hall", "Hostile Beta Hall", "Hostile Gamma Hall")


HOSTILE_TEXT = "\n".join(HOSTILE_ITEMS)


def _answer(content: Any = HOSTILE_TEXT, **changes: Any) -> bytes:
    """A chat-completions answer with ``changes`` applied to its top level or usage."""
    body: dict[str, Any] = {
        "id": "hostile-1",
        "object": "chat.completion",
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 9, "total_tokens": 21},
    }
    for key, value in changes.items():
        if key in body["usage"]:
            body["usage"][key] = value
        else:
            body[key] = value
    return json.dumps(body).encode()


#: malformed answers (each a provider error for that attempt) and the valid content parts
BODIES: dict[str, bytes] = {
    "content_int": _answer(5),
    "content_bad_parts": _answer([{"type": "text", "text": 7}]),
    "choices_object": _answer(choices={"0": {"message": {"content": "x"}}}),
    "choices_null": _answer(choices=[None]),
    "tokens_string": _answer(prompt_tokens="12"),
    "tokens_float": _answer(completion_tokens=9.5),
    "tokens_huge": _answer(completion_tokens=10**30),
    "tokens_negative": _answer(prompt_tokens=-5),
    "model_int": _answer(model=5),
    "not_an_object": b"[1, 2, 3]",
    "deep": b"[" * 100_000,
    "content_parts": _answer(
        [
            {"type": "text", "text": "Parted Amber Hall\n"},
            {"type": "text", "text": "Parted Cobalt Hall"},
        ]
    ),
    "invalid_utf8": _answer("Amber Vault Hall\nBroken QQQ Hall\nCobalt Vault Hall").replace(
        b"QQQ", b"\xff\xfe"
    ),
}


@functools.cache
def _gzip_bomb() -> bytes:
    head, tail = _answer("QQQ").split(b"QQQ")
    return gzip.compress(head + b"a" * (BOMB_BYTES - len(head) - len(tail)) + tail, 1)


@dataclass
class Seen:
    started: float
    mode: str
    gave_up: float | None = None  # the client closed the connection before the end
    sent: int = 0  # body bytes written


class HostileLLM:
    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        if "gzip_bomb" in mode.split("|"):
            _gzip_bomb()  # made before the first request, not while the client waits

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def seen(self) -> list[Seen]:
        with self._lock:
            return list(self.requests)

    def __enter__(self) -> HostileLLM:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                modes = owner.mode.split("|")
                with owner._lock:
                    seen = Seen(time.monotonic(), modes[len(owner.requests) % len(modes)])
                    owner.requests.append(seen)
                try:
                    self._serve(seen)
                except (BrokenPipeError, ConnectionResetError):
                    seen.gave_up = time.monotonic()

            def _write(self, seen: Seen, data: bytes) -> None:
                self.wfile.write(data)
                self.wfile.flush()
                seen.sent += len(data)

            def _start(self, status: int, length: int | None, **headers: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                if length is not None:
                    self.send_header("Content-Length", str(length))
                for name, value in headers.items():
                    self.send_header(name.replace("_", "-"), value)
                self.end_headers()

            def _serve(self, seen: Seen) -> None:
                mode = seen.mode
                if mode == "trickle":
                    self._start(200, 1_000_000)
                    while not owner._closing.wait(TRICKLE_EVERY_S):
                        self._write(seen, b" ")
                elif mode == "gzip_bomb":
                    body = _gzip_bomb()
                    self._start(200, len(body), Content_Encoding="gzip")
                    self._write(seen, body)
                elif mode in ("huge", "huge_undeclared"):
                    head, tail = _answer("QQQ").split(b"QQQ")
                    self._start(200, HUGE_BYTES if mode == "huge" else None)
                    self._write(seen, head)
                    left = HUGE_BYTES - len(head) - len(tail)
                    while left > 0 and not owner._closing.is_set():
                        self._write(seen, b"a" * min(left, 65536))
                        left -= 65536
                    self._write(seen, tail)
                elif mode == "retry_after":
                    body = b'{"error": {"message": "slow down"}}'
                    self._start(429, len(body), Retry_After="1000000000")
                    self._write(seen, body)
                elif mode.startswith("status:"):
                    body = b'{"error": {"message": "no"}}'
                    self._start(int(mode.split(":")[1]), len(body))
                    self._write(seen, body)
                else:
                    body = BODIES[mode.split(":", 1)[1]]
                    self._start(200, len(body))
                    self._write(seen, body)

        return Handler
