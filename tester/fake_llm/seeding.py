"""Where the fake model's randomness comes from: a run seed the tester controls.

``python -m tester --seed N`` sets the run seed (default: a random one, printed with
the scenario and with every failure). Every fake server of the run derives its own
seed from the run seed and its name (``server_seed``), and every answer it draws
comes from ``answer_seed(server seed, request sequence)``: the server's n-th
request (``seq`` in its ledger) is drawn from the same seed in every rerun with the
same ``--seed``. A request that sends ``seed`` in its body (the ``--llm`` spec's
``seed=``) is drawn from that seed, as a real model would.

What a rerun cannot fix is the order in which concurrent producers' requests reach
the server, or the avoid lists in their prompts: the n-th draw is the same, the
request that gets it may differ.
"""

from __future__ import annotations

import hashlib
import random

__all__ = ["answer_seed", "new_run_seed", "run_seed", "server_seed", "set_run_seed"]

_run_seed: int | None = None


def new_run_seed() -> int:
    """A fresh random run seed (small enough to type)."""
    return random.SystemRandom().randrange(1, 10**9)


def set_run_seed(seed: int) -> None:
    global _run_seed
    _run_seed = seed


def run_seed() -> int:
    """The run seed (set by the tester's CLI; a fresh one on first use otherwise)."""
    global _run_seed
    if _run_seed is None:
        _run_seed = new_run_seed()
    return _run_seed


def _hash(*parts: object) -> int:
    text = ":".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def server_seed(name: str, seed: int | None = None) -> int:
    """The seed of the fake server ``name``: ``seed`` if given, else from the run seed."""
    return seed if seed is not None else _hash("server", run_seed(), name)


def answer_seed(seed: int, seq: int) -> int:
    """The seed of the server's ``seq``-th request's answer."""
    return _hash("answer", seed, seq)
