"""The tracing-validated end-to-end harness. It never imports the system.

The public surface is this package's ``__all__``, pinned by
tests/unit/test_public_api.py::

    from tester import Collector, OrchestratorConfig, ServiceConstellation, Topic, spans

Each name lives in its own subpackage (``tester.collector``,
``tester.constellation``, ``tester.topic``, ``tester.query``...), which stays
importable as before. The names are loaded on first use (PEP 562
``__getattr__``) rather than here, so that ``python -m tester.fake_llm`` (a
process of its own in every provider scenario) does not pay for importing
gRPC, protobuf and the collector at start-up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tester.collector import Collector, Span, SpanStore
    from tester.constellation import OrchestratorConfig, ServiceConstellation, StartupError
    from tester.fake_llm import FakeLLMServer
    from tester.query import IncompleteTrace, NoTelemetry, Spans, spans
    from tester.scenario import ScenarioContext
    from tester.topic import Topic

#: public name -> the module that defines it
_HOMES = {
    "Collector": "tester.collector",
    "Span": "tester.collector",
    "SpanStore": "tester.collector",
    "OrchestratorConfig": "tester.constellation",
    "ServiceConstellation": "tester.constellation",
    "StartupError": "tester.constellation",
    "FakeLLMServer": "tester.fake_llm",
    "spans": "tester.query",
    "Spans": "tester.query",
    "IncompleteTrace": "tester.query",
    "NoTelemetry": "tester.query",
    "ScenarioContext": "tester.scenario",
    "Topic": "tester.topic",
}

__all__ = [
    "Collector",
    "FakeLLMServer",
    "IncompleteTrace",
    "NoTelemetry",
    "OrchestratorConfig",
    "ScenarioContext",
    "ServiceConstellation",
    "Span",
    "SpanStore",
    "Spans",
    "StartupError",
    "Topic",
    "spans",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'tester' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # the next access is a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
