"""The HTTP side of the fake server (standard library ``ThreadingHTTPServer``).

Routes: ``POST /v1/chat/completions``, ``GET /v1/models``, ``GET /health``,
``GET /control/stats`` (requests and outcomes so far), ``POST /control/plan``
(body ``{"plan": "...", "retry_after": s, "slow_ms": ms}``; replaces the plan)
and ``POST /control/reset`` (clears the statistics). The control routes
always answer, even while the plan says ``down``.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tester.fake_llm import model
from tester.fake_llm.canned import CannedAnswers
from tester.fake_llm.faults import FaultPlan, PlanError, Step, parse_plan

log = logging.getLogger("fake_llm")

MAX_BODY = 4 * 1024 * 1024


@dataclass
class ServerState:
    model_name: str = "fake-model"
    plan: FaultPlan = field(default_factory=FaultPlan)
    retry_after: float = 1.0
    slow_ms: float = 2000.0
    hang_s: float = 120.0
    latency_ms: float = 0.0
    known: int | None = None  # the model knows only the most popular N names
    api_key: str | None = None
    canned: CannedAnswers | None = None  # --answers: replayed instead of the model's
    lock: threading.Lock = field(default_factory=threading.Lock)
    outcomes: Counter[str] = field(default_factory=Counter)
    input_tokens: int = 0
    output_tokens: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def count(self, outcome: str, tokens: tuple[int, int] = (0, 0)) -> None:
        with self.lock:
            self.outcomes[outcome] += 1
            self.input_tokens += tokens[0]
            self.output_tokens += tokens[1]

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "requests": sum(self.outcomes.values()),
                "outcomes": dict(self.outcomes),
                "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens,
                "plan": self.plan.describe(),
            }


class Handler(BaseHTTPRequestHandler):
    server: FakeLLMHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    # ------------------------------------------------------------ helpers
    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self._raw(status, data, "application/json", headers)

    def _raw(
        self, status: int, data: bytes, ctype: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError("body too large")
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw or b"{}")

    def _error(self, status: int, message: str, kind: str, headers: dict[str, str] | None = None):
        self._json(status, {"error": {"message": message, "type": kind, "code": None}}, headers)

    # ------------------------------------------------------------ routes
    def do_GET(self) -> None:
        state = self.server.state
        if self.path == "/v1/models":
            created = int(time.time())
            self._json(200, {"object": "list", "data": [
                {"id": state.model_name, "object": "model", "created": created, "owned_by": "fake"}
            ]})  # fmt: skip
        elif self.path == "/health":
            self._json(200, {"status": "ok"})
        elif self.path == "/control/stats":
            self._json(200, state.stats())
        else:
            self._error(404, f"no route {self.path}", "not_found")

    def do_POST(self) -> None:
        try:
            body = self._body()
        except (ValueError, json.JSONDecodeError) as exc:
            self._error(400, f"bad request body: {exc}", "invalid_request_error")
            return
        if self.path == "/control/plan":
            self._control_plan(body)
        elif self.path == "/control/reset":
            state = self.server.state
            with state.lock:
                state.outcomes.clear()
                state.input_tokens = state.output_tokens = 0
            self._json(200, state.stats())
        elif self.path in ("/v1/chat/completions", "/chat/completions"):
            self._chat(body)
        else:
            self._error(404, f"no route {self.path}", "not_found")

    def _control_plan(self, body: Any) -> None:
        state = self.server.state
        try:
            steps = parse_plan(str(body.get("plan", "")))
        except PlanError as exc:
            self._error(400, str(exc), "invalid_request_error")
            return
        for name in ("retry_after", "slow_ms", "hang_s", "latency_ms"):
            if isinstance(body.get(name), int | float):
                setattr(state, name, float(body[name]))
        state.plan.replace(steps)
        log.info("plan set to %s", state.plan.describe())
        self._json(200, state.stats())

    def _authorized(self) -> bool:
        key = self.server.state.api_key
        return key is None or self.headers.get("Authorization", "") == f"Bearer {key}"

    def _chat(self, body: Any) -> None:
        state = self.server.state
        step = state.plan.next_step()
        if step.kind == "down":
            state.count("down")
            self.close_connection = True
            self.connection.close()  # as a dead server: no answer at all
            return
        if not self._authorized():
            state.count("401")
            self._error(401, "invalid API key", "invalid_request_error")
            return
        if step.status is not None:
            self._fault_status(step)
            return
        if step.kind == "hang":
            state.count("hang")
            time.sleep(state.hang_s)
            self.close_connection = True
            return
        delay_ms = state.slow_ms if step.kind == "slow" else state.latency_ms
        if delay_ms > 0:
            time.sleep(delay_ms / 1000)
        self._answer(body, step)

    def _fault_status(self, step: Step) -> None:
        state = self.server.state
        status = step.status or 500
        state.count(str(status))
        headers = {}
        if status == 429 or status == 503:
            headers["Retry-After"] = f"{state.retry_after:g}"
        kinds = {429: "rate_limit_exceeded", 503: "service_unavailable"}
        self._error(status, f"injected fault {status}", kinds.get(status, "server_error"), headers)

    def _answer(self, body: Any, step: Step) -> None:
        state = self.server.state
        messages = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(messages, list) or not messages:
            self._error(400, "messages must be a non-empty list", "invalid_request_error")
            return
        prompt = "\n".join(str(m.get("content", "")) for m in messages if isinstance(m, dict))
        # one line per answered request: what a test needs to see the client's sampling settings
        log.info(
            "chat request sampling: %s",
            json.dumps({k: body.get(k) for k in ("temperature", "top_p", "seed", "max_tokens")}),
        )
        seed = body.get("seed")
        with state.lock:
            rng = random.Random(seed if isinstance(seed, int) else state.rng.getrandbits(64))
        text = state.canned.next() if state.canned else model.answer(prompt, rng, state.known)
        finish = "stop"
        max_tokens = body.get("max_tokens") or body.get("max_completion_tokens")
        if isinstance(max_tokens, int) and model.count_tokens(text) > max_tokens:
            text, finish = text[: max_tokens * 4], "length"
        tokens = (model.count_tokens(prompt), model.count_tokens(text))
        response = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": state.model_name,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": finish,
                }
            ],
            "usage": {
                "prompt_tokens": tokens[0],
                "completion_tokens": tokens[1],
                "total_tokens": sum(tokens),
            },
        }
        if step.kind == "empty":
            response["choices"] = []
            state.count("empty")
            self._json(200, response)
        elif step.kind == "garbage":
            state.count("garbage")
            self._raw(200, b"<html>upstream proxy error</html>", "application/json")
        elif step.kind == "truncated":
            state.count("truncated")
            data = json.dumps(response).encode()
            self._raw(200, data[: len(data) // 2], "application/json")
        else:
            state.count("ok", tokens)
            self._json(200, response)


class FakeLLMHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], state: ServerState) -> None:
        super().__init__(address, Handler)
        self.state = state
