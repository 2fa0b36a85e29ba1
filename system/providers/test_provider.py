"""The ``test`` provider: the deterministic simulated LLM, in process."""

from __future__ import annotations

import asyncio
import time

from system.providers.base import Completion
from system.providers.simulated import DEFAULT_PROFILE, SimulatedModel


class TestProvider:
    name = "simulated"

    def __init__(
        self,
        latency_ms: float = 0.0,
        model: SimulatedModel | None = None,
        profile: str = DEFAULT_PROFILE,
    ) -> None:
        self._model = model or SimulatedModel(profile=profile)
        self.model = self._model.model_name
        self.latency_ms = latency_ms

    async def complete(
        self, prompt: str, *, seed: int, temperature_delta: float = 0.0
    ) -> Completion:
        # the simulated model has no temperature: the arm only changes the seed
        if temperature_delta:
            seed ^= 0x7E3F

        started = time.perf_counter()
        if self.latency_ms > 0:
            await asyncio.sleep(self.latency_ms / 1000)
        result = self._model.complete(prompt, seed)
        return Completion(
            text=result.text,
            model=result.model,
            input_tokens=result.input_tokens,
            output_tokens=result.output_tokens,
            finish_reason=result.finish_reason,
            latency_ms=(time.perf_counter() - started) * 1000,
        )

    async def close(self) -> None:
        return None
