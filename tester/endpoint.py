"""What the tester's local OpenAI-compatible servers share: URLs and the context manager.

The fake model (in-process ``LocalFakeLLM`` and subprocess ``FakeLLMServer``) and
the real small model (``LocalLLM``) each start differently; once started they
are all a host and a port on 127.0.0.1 that an OpenAI client or ``--llm
base_url=`` points at.
"""

from __future__ import annotations

from typing import Self

__all__ = ["LocalEndpoint"]


class LocalEndpoint:
    """A server with ``host``/``port`` set by ``start()``; ``with`` starts and stops it."""

    host: str
    port: int

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What an OpenAI client takes as ``base_url`` (and ``--llm base_url=``)."""
        return f"{self.root_url}/v1"
