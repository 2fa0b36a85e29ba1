"""``LocalFakeLLM``: the fake server in the tester's own process, ledger in hand.

    with LocalFakeLLM(model="model-a", noise=NoiseConfig.parse("basic")) as llm:
        llm.base_url                 # http://127.0.0.1:PORT/v1
        llm.ledger.entries           # every request and answer, with each line's truth

Same surface as ``FakeLLMServer`` (``base_url``, ``model``, ``set_plan``,
``stats``) so scenarios use either; this one costs no interpreter start-up
and hands the oracle the ``Ledger`` object itself. Its HTTP server runs in a
daemon thread on 127.0.0.1, port 0, and stops on ``stop()`` / leaving the
``with`` block.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from tester.endpoint import LocalEndpoint
from tester.fake_llm import seeding
from tester.fake_llm.faults import FaultPlan, parse_plan
from tester.fake_llm.ledger import Ledger
from tester.fake_llm.model import UNIVERSE_SIZE
from tester.fake_llm.noise import NoiseConfig
from tester.fake_llm.server import FakeLLMHTTPServer, ServerState


class LocalFakeLLM(LocalEndpoint):
    def __init__(
        self,
        *,
        model: str = "fake-model",
        plan: str = "",
        retry_after: float = 1.0,
        latency_ms: float = 0.0,
        api_key: str | None = None,
        known: int | None = None,
        noise: NoiseConfig | None = None,
        universe: int = UNIVERSE_SIZE,
        response_model: str | None = None,
        seed: int | None = None,
        name: str = "",
    ) -> None:
        self.model = model
        self.name = name or model
        self.state = ServerState(
            model_name=model,
            plan=FaultPlan(parse_plan(plan)),
            retry_after=retry_after,
            latency_ms=latency_ms,
            api_key=api_key,
            known=known,
            response_model=response_model,
            noise=noise or NoiseConfig(frozenset(), 0.0),
            universe_size=universe,
            seed=seeding.server_seed(name or model, seed),
        )
        self._server: FakeLLMHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.host, self.port = "127.0.0.1", 0

    @property
    def ledger(self) -> Ledger:
        return self.state.ledger

    def start(self) -> LocalFakeLLM:
        self._server = FakeLLMHTTPServer((self.host, 0), self.state)
        self.port = int(self._server.server_address[1])
        ledger = self.state.ledger
        ledger.server, ledger.model, ledger.port = f"{self.host}:{self.port}", self.model, self.port
        ledger.config = {
            "name": self.name,
            "noise": sorted(self.state.noise.kinds),
            "noise_rate": self.state.noise.rate,
            "universe": self.state.universe_size,
            "known": self.state.known,
            "response_model": self.state.response_model or self.model,
            "retry_after": self.state.retry_after,
            "seed": self.state.seed,
        }
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True,
            name=f"fake-llm-{self.port}",
        )  # fmt: skip
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def set_plan(self, plan: str, **options: float) -> dict[str, Any]:
        for key, value in options.items():
            setattr(self.state, key, float(value))
        self.state.plan.replace(parse_plan(plan))
        return self.state.stats()

    def stats(self) -> dict[str, Any]:
        return self.state.stats()

    def dump_ledger(self, path: Path) -> Path:
        return self.ledger.dump(path)
