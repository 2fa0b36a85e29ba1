"""ProviderSpec: one OpenAI-compatible endpoint the producers may call.

A spec names the variable that holds the API key (``key_env``), never the key
itself, so a spec can be logged, written to run.json and passed to producers
in their environment without leaking anything.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class ProviderSpec:
    name: str  # unique id within the run, e.g. "openai" or "local"
    base_url: str
    model: str
    key_env: str | None = None  # None: the endpoint needs no key (local servers)
    weight: float = 1.0
    rpm: float | None = None  # requests per minute for the whole run
    tpm: float | None = None  # tokens per minute for the whole run
    timeout_s: float = 60.0  # per connect and per read
    deadline_s: float | None = None  # whole request, first byte to last; None: 2 x timeout_s
    system: str | None = None  # gen_ai.provider.name; default derived from the URL
    max_tokens: int | None = None
    temperature: float | None = None  # None: the server's default
    top_p: float | None = None
    seed: int | None = None  # sent as is on every request (same prompt, same answer)
    breaker_failures: int = 5  # consecutive failures that open the breaker
    breaker_cooldown_s: float = 10.0  # open -> half-open after this long

    @property
    def request_deadline_s(self) -> float:
        """The total time one HTTP attempt may take (``deadline``, default twice ``timeout``)."""
        return self.deadline_s if self.deadline_s is not None else 2 * self.timeout_s

    @property
    def genai_provider(self) -> str:
        """The value of ``gen_ai.provider.name`` (well-known names of the conventions)."""
        if self.system:
            return self.system
        url = self.base_url.lower()
        if "api.openai.com" in url:
            return "openai"
        if "anthropic.com" in url:
            return "anthropic"
        if "generativelanguage.googleapis.com" in url:
            return "gcp.gemini"
        return self.name

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProviderSpec:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
