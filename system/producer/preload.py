"""Import the OpenAI client beside the event loop, never on it.

Importing ``openai`` takes a second or more on a loaded machine. Done on the
event loop (as it once was, when the first ``env`` provider was built after
StartTopic), it blocked SIGTERM and stdin handling for that long: a producer
whose orchestrator had died lived on, and could start an LLM request after
it had been told to stop. ``start`` imports it in a daemon thread (it never
delays the process's exit); ``Preload.wait`` awaits it or a stop, whichever
comes first.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import importlib
import threading
from typing import Any

#: what building an ``env`` provider imports
MODULES = ("openai", "system.providers.openai_compat")


class Preload:
    def __init__(self) -> None:
        self._done: concurrent.futures.Future[None] = concurrent.futures.Future()
        threading.Thread(target=self._run, name="preload-openai", daemon=True).start()

    def _run(self) -> None:
        try:
            for name in MODULES:
                importlib.import_module(name)
        except Exception:
            pass  # building the provider imports it again and reports the error
        finally:
            with contextlib.suppress(concurrent.futures.InvalidStateError):
                self._done.set_result(None)

    async def wait(self, stop: asyncio.Event) -> None:
        """Return once the modules are imported, or as soon as ``stop`` is set."""
        done: asyncio.Future[Any] = asyncio.wrap_future(self._done)
        stopped: asyncio.Future[Any] = asyncio.create_task(stop.wait())
        await asyncio.wait({done, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if not done.done():
            done.cancel()  # the thread finishes on its own; nothing waits for it
