"""The HTTP side of the fake server (standard library ``ThreadingHTTPServer``).

Routes: ``POST /v1/chat/completions``, ``GET /v1/models``, ``GET /health``,
``GET /control/stats`` (requests and outcomes so far), ``GET /control/ledger``
(every request and answer with the ground truth of each line, see
``ledger``), ``POST /control/plan``
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

from tester.fake_llm import model, seeding
from tester.fake_llm.canned import CannedAnswers
from tester.fake_llm.faults import FaultPlan, PlanError, Step, parse_plan
from tester.fake_llm.ledger import SAMPLING_KEYS, Entry, Ledger, Line, redact_headers
from tester.fake_llm.noise import NoiseConfig

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
    response_model: str | None = None  # answered as "model" (default: model_name)
    noise: NoiseConfig = field(default_factory=lambda: NoiseConfig(frozenset(), 0.0))
    universe_size: int = model.UNIVERSE_SIZE
    ledger: Ledger = field(default_factory=Ledger)
    canned: CannedAnswers | None = None  # --answers: replayed instead of the model's
    lock: threading.Lock = field(default_factory=threading.Lock)
    outcomes: Counter[str] = field(default_factory=Counter)
    input_tokens: int = 0
    output_tokens: int = 0
    #: the answers' seed: request ``seq`` is drawn from ``answer_seed(seed, seq)``
    seed: int = field(default_factory=seeding.new_run_seed)

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

    def _error(
        self, status: int, message: str, kind: str, headers: dict[str, str] | None = None
    ) -> None:
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
        elif self.path == "/control/ledger":
            self._json(200, state.ledger.to_dict())
        else:
            self._error(404, f"no route {self.path}", "not_found")

    def do_POST(self) -> None:
        arrival = time.time()
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
            self._chat(body, arrival)
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

    def _open_entry(self, body: Any, arrival: float) -> Entry:
        """The ledger entry of this request (secrets in headers redacted)."""
        messages = body.get("messages") if isinstance(body, dict) else None
        prompt = ""
        if isinstance(messages, list):
            prompt = "\n".join(str(m.get("content", "")) for m in messages if isinstance(m, dict))
        sampling = {}
        if isinstance(body, dict):
            sampling = {k: body[k] for k in SAMPLING_KEYS if k in body}
        asked = model.read_asked(prompt)
        kind = "subtopics" if model.is_subtopics(prompt) else "items"
        return self.server.state.ledger.open(
            {
                "arrival": arrival,
                "client": "{}:{}".format(*self.client_address[:2]),
                "path": self.path,
                "headers": redact_headers(self.headers),
                "requested_model": body.get("model") if isinstance(body, dict) else None,
                "sampling": sampling,
                "prompt": prompt,
                "asked": {"kind": kind, "topic": asked.topic, "count": asked.count,
                          "partition": asked.partition, "avoid": asked.avoid},
            }
        )  # fmt: skip

    def _chat(self, body: Any, arrival: float) -> None:
        state = self.server.state
        entry = self._open_entry(body, arrival)
        step = state.plan.next_step()
        entry.outcome = step.kind
        if step.kind == "down":
            state.count("down")
            entry.answered = time.time()
            self.close_connection = True
            self.connection.close()  # as a dead server: no answer at all
            return
        if not self._authorized():
            state.count("401")
            entry.outcome, entry.status, entry.answered = "401", 401, time.time()
            self._error(401, "invalid API key", "invalid_request_error")
            return
        if step.status is not None:
            self._fault_status(step, entry)
            return
        if step.kind == "hang":
            state.count("hang")
            time.sleep(state.hang_s)
            entry.answered = time.time()
            self.close_connection = True
            return
        delay_ms = state.slow_ms if step.kind == "slow" else state.latency_ms
        if delay_ms > 0:
            time.sleep(delay_ms / 1000)
        if step.kind == "slow":
            entry.outcome = "ok"
        self._answer(body, step, entry)

    def _fault_status(self, step: Step, entry: Entry) -> None:
        state = self.server.state
        status = step.status or 500
        state.count(str(status))
        headers = {}
        if status == 429 or status == 503:
            headers["Retry-After"] = f"{state.retry_after:g}"
            entry.retry_after = state.retry_after
        kinds = {429: "rate_limit_exceeded", 503: "service_unavailable"}
        entry.status, entry.answered = status, time.time()
        self._error(status, f"injected fault {status}", kinds.get(status, "server_error"), headers)

    def _answer(self, body: Any, step: Step, entry: Entry) -> None:
        state = self.server.state
        messages = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(messages, list) or not messages:
            entry.outcome, entry.status, entry.answered = "400", 400, time.time()
            self._error(400, "messages must be a non-empty list", "invalid_request_error")
            return
        prompt = entry.prompt
        # one line per answered request: what a test needs to see the client's sampling settings
        log.info(
            "chat request sampling: %s",
            json.dumps({k: body.get(k) for k in ("temperature", "top_p", "seed", "max_tokens")}),
        )
        seed = body.get("seed")
        rng = random.Random(
            seed if isinstance(seed, int) else seeding.answer_seed(state.seed, entry.seq)
        )
        if state.canned:
            lines = [Line(x, "unknown", "canned") for x in state.canned.next().splitlines()]
        else:
            lines = model.answer(
                prompt, rng, state.known, noise=state.noise, size=state.universe_size
            )
        finish = "stop"
        max_tokens = body.get("max_tokens") or body.get("max_completion_tokens")
        if isinstance(max_tokens, int):
            lines, finish = _cut(lines, max_tokens)
        text = "\n".join(line.text for line in lines)
        if finish == "length" and lines:
            # _cut keeps whole lines: the model got as far as the line break after the
            # last one, so a client that drops a cut-off last line keeps this one
            text += "\n"
        tokens = (model.count_tokens(prompt), model.count_tokens(text))
        answered_model = state.response_model or state.model_name
        response = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": answered_model,
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
        entry.status, entry.answered = 200, time.time()
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
            entry.response_model = answered_model
            entry.response_id = str(response["id"])
            entry.usage = {"input_tokens": tokens[0], "output_tokens": tokens[1]}
            entry.finish_reason = finish
            entry.lines = lines
            self._json(200, response)
            entry.answered = time.time()


def _cut(lines: list[Line], max_tokens: int) -> tuple[list[Line], str]:
    """Whole lines within ``max_tokens`` (so every line served keeps its label)."""
    kept: list[Line] = []
    for line in lines:
        if model.count_tokens("\n".join(x.text for x in [*kept, line])) > max_tokens:
            return kept, "length"
        kept.append(line)
    return kept, "stop"


class FakeLLMHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (a stopped producer) is not an error worth a traceback."""
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def __init__(self, address: tuple[str, int], state: ServerState) -> None:
        super().__init__(address, Handler)
        self.state = state
