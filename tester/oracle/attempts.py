"""LLM attempts as the spans tell them (docs/tracing.md, ``chat {model}``).

One ``Attempt`` per HTTP request the system says it made. A ``chat`` span is
one LLM request; each of its HTTP attempts is an ``llm.attempt`` event (when
it ended, with ``llm.latency_ms``, ``llm.provider`` and ``error.type`` when it
failed); the answering attempt's response model, usage and response id are
the span's. A ``chat`` span without attempt events (the older schema: one
span per attempt) is one attempt itself. The oracle matches these against
the fake server's ledger.
"""

from __future__ import annotations

from dataclasses import dataclass

from tester import schema as n
from tester.collector import Span

#: error.type values meaning the client gave up or was told to stop, whatever the server did
#: (``deadline``: the attempt's total deadline passed; ``answer_too_large``: the body was
#: abandoned at the size cap, docs/tracing.md)
GAVE_UP = frozenset({"timeout", "deadline", "answer_too_large", "CancelledError", "cancelled"})
#: error.type of an attempt cut off by a stop (docs/tracing.md): it may never reach the server
CANCELLED = "cancelled"


@dataclass
class Attempt:
    span: Span
    producer: int | None
    port: int | None
    start: float  # seconds, wall clock
    end: float
    ok: bool
    error_type: str | None
    response_model: str | None
    input_tokens: int | None
    output_tokens: int | None
    cycle_id: str | None  # the parent span (generation.cycle or subtopics.propose)
    partition: str | None = None  # what the cycle says its prompt asked for
    avoid_items: int | None = None
    provider: str | None = None  # the --llm name
    response_id: str | None = None
    arm: str | None = None  # the cycle's adaptive-strategy arm

    @property
    def abandoned(self) -> bool:
        """Ended without an answer or an error: the process stopped while waiting."""
        return self.ok and self.response_model is None and self.output_tokens is None

    def describe(self) -> str:
        what = (
            f"ok model={self.response_model} tokens={self.input_tokens}/{self.output_tokens}"
            if self.ok
            else f"error.type={self.error_type}"
        )
        return (
            f"chat span {self.span.span_id} producer {self.producer} port {self.port} "
            f"{self.start:.3f}..{self.end:.3f} {what}"
        )


def _int(value: object) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else None


def attempts(spans: list[Span]) -> list[Attempt]:
    by_id = {s.span_id: s for s in spans}
    found = []
    for span in spans:
        if not span.name.startswith(n.CHAT_PREFIX):
            continue
        pid = _int(span.resource.get(n.PRODUCER_ID, span.attr(n.PRODUCER_ID)))
        cycle = by_id.get(span.parent_span_id or "")
        is_cycle = cycle is not None and cycle.name == n.GENERATION_CYCLE
        # a cycle describes its prompt when it ends with an answer (generation.provider set);
        # one cut off by a stop never said what it asked for: unknown, not "no avoid list"
        described = is_cycle and cycle is not None and cycle.attr("generation.provider") is not None
        partition = cycle.attr("generation.partition") if described and cycle else None
        avoid = int(cycle.attr("generation.avoid_items", 0) or 0) if described and cycle else None
        arm = cycle.attr("generation.arm") if is_cycle and cycle else None
        model = span.attr(n.GENAI_RESPONSE_MODEL)
        tokens_in = _int(span.attr(n.GENAI_INPUT_TOKENS))
        tokens_out = _int(span.attr(n.GENAI_OUTPUT_TOKENS))
        response_id = span.attr("gen_ai.response.id")
        events = [e for e in span.events if e.name == "llm.attempt"]
        if not events:
            failed = span.status == "ERROR"
            found.append(
                Attempt(
                    span=span, producer=pid, port=_int(span.attr(n.SERVER_PORT)),
                    start=span.start_ns / 1e9, end=span.end_ns / 1e9, ok=not failed,
                    error_type=str(span.attr(n.ERROR_TYPE)) if failed else None,
                    response_model=model, input_tokens=tokens_in, output_tokens=tokens_out,
                    cycle_id=span.parent_span_id, partition=partition, avoid_items=avoid,
                    provider=str(span.attr(n.GENAI_PROVIDER_NAME, "")) or None,
                    response_id=response_id, arm=arm,
                )
            )  # fmt: skip
            continue
        previous_end = span.start_ns / 1e9
        for event in sorted(events, key=lambda e: e.time_ns):
            attrs = event.attributes
            end = event.time_ns / 1e9
            failed = attrs.get(n.ERROR_TYPE) is not None
            # an attempt starts after the previous one ended (llm.latency_ms is the client's
            # own measure and under load starts after the server already had the request)
            start, previous_end = previous_end, end
            # the cycle describes the answering attempt's prompt; with arms per provider a
            # failed-over attempt may have had another one; the answer is the last attempt's
            found.append(
                Attempt(
                    span=span, producer=pid, port=None, start=start, end=end, ok=not failed,
                    error_type=str(attrs.get(n.ERROR_TYPE)) if failed else None,
                    response_model=None if failed else model,
                    input_tokens=None if failed else tokens_in,
                    output_tokens=None if failed else tokens_out,
                    cycle_id=span.parent_span_id,
                    partition=None if failed else partition,
                    avoid_items=None if failed else avoid,
                    provider=str(attrs.get("llm.provider", "")) or None,
                    response_id=None if failed else response_id, arm=arm,
                )
            )  # fmt: skip
    found.sort(key=lambda a: a.start)
    return found
