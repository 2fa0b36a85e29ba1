"""A simulated OpenAI-compatible chat-completions server with fault injection.

``python -m tester.fake_llm`` serves ``POST /v1/chat/completions`` and
``GET /v1/models`` on 127.0.0.1 (port 0 by default) and prints
``fake-llm listening on 127.0.0.1:PORT``. Faults follow a *plan* (a list of
steps, see ``faults``) set on the command line or over ``/control``.
``FakeLLMServer`` runs it as a subprocess for scenarios and tests.

The tester never imports ``system``: the answers come from this package's
own small simulated model (``model``).
"""

from tester.fake_llm.faults import FaultPlan, Step
from tester.fake_llm.ledger import Entry, Ledger, Line
from tester.fake_llm.local import LocalFakeLLM
from tester.fake_llm.noise import NoiseConfig
from tester.fake_llm.wrapper import FakeLLMServer

__all__ = [
    "Entry", "FakeLLMServer", "FaultPlan", "Ledger", "Line", "LocalFakeLLM", "NoiseConfig", "Step",
]  # fmt: skip
