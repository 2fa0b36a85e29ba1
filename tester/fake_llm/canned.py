"""Canned answers: the fake server replays answers from a file instead of its model.

``python -m tester.fake_llm --answers FILE``: FILE is JSON Lines, one answer
per line, each a JSON string (``"Louvre\\nOrsay"``) or an object with an
``answer`` string (the shape of tests/data/real_corpus). The answers are
served in order, round robin. Being JSON, a line can carry content no model
should send but some do: ``"\\ud800"`` (a lone surrogate), control and
format characters, megabyte lines; the server writes them back as JSON
escapes, exactly what a real server's body would hold.

Why a separate module: the fault plan (``faults``) says *whether* and *how*
a request is answered; this says *what* the answer is, to replay recorded
real output and fuzzed junk through real producers.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path


class CannedError(ValueError):
    pass


class CannedAnswers:
    def __init__(self, answers: list[str]) -> None:
        if not answers:
            raise CannedError("no answers")
        self._answers = answers
        self._next = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._answers)

    @classmethod
    def load(cls, path: Path) -> CannedAnswers:
        answers: list[str] = []
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise CannedError(f"cannot read {path}: {exc}") from exc
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise CannedError(f"{path}:{number}: not JSON: {exc}") from exc
            if isinstance(value, dict):
                value = value.get("answer")
            if not isinstance(value, str):
                raise CannedError(f"{path}:{number}: expected a string or {{'answer': string}}")
            answers.append(value)
        if not answers:
            raise CannedError(f"{path}: no answers")
        return cls(answers)

    def next(self) -> str:
        with self._lock:
            answer = self._answers[self._next % len(self._answers)]
            self._next += 1
        return answer
