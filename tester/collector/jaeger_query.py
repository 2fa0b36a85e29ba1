"""Reading traces back from Jaeger v2's query API (``/api/v3``) into a SpanStore.

    client = JaegerQuery("http://localhost:16686")
    spans = client.find_traces("orchestrator", start_ns, end_ns)   # [] = not there yet
    spans = client.get_trace("4bf92f3577b34da6a3ce929d0e0e4736")

    with JaegerPoller(client, store, ["orchestrator", "producer"], since_ns=start_ns):
        Topic.wait_for_topic("Paris attractions", store, timeout=120)

The API (jaeger-idl ``proto/api_v3/query_service.proto``): ``GET /api/v3/traces``
with ``query.service_name``, ``query.start_time_min`` and ``query.start_time_max``
(RFC 3339 with nanoseconds, both required), optionally ``query.search_depth``;
``GET /api/v3/traces/{trace_id}`` with optional ``start_time``/``end_time``.
Both answer OTLP JSON ``TracesData`` wrapped as ``{"result": {"resourceSpans":
[...]}}`` (possibly several such objects in a row, one per streamed chunk).
A search that finds nothing answers 404 with ``{"error": {...}}``: that means
"not yet", not failure. The legacy ``/api/traces`` is not used.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from tester.collector.spans import Span, spans_from_otlp_json
from tester.collector.store import SpanStore

log = logging.getLogger(__name__)

DEFAULT_JAEGER_URL = "http://localhost:16686"
MAX_RESPONSE_BYTES = 256 * 2**20


class JaegerQueryError(Exception):
    """Jaeger could not be asked, or answered something that is not a trace result."""


def rfc3339_ns(unix_ns: int) -> str:
    """``2026-11-23T09:45:12.123456789Z``: RFC 3339 with nanoseconds, as api_v3 wants."""
    seconds, nanos = divmod(unix_ns, 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{nanos:09d}Z"


def _results(body: bytes) -> list[dict[str, Any]]:
    """The ``result`` objects of a response: one JSON object, or several in a row."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JaegerQueryError(f"response is not UTF-8: {exc}") from exc
    decoder = json.JSONDecoder()
    results: list[dict[str, Any]] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            break
        try:
            item, pos = decoder.raw_decode(text, pos)
        except ValueError as exc:
            raise JaegerQueryError(f"response is not JSON: {exc}") from exc
        if not isinstance(item, dict):
            raise JaegerQueryError(f"expected a JSON object, got {type(item).__name__}")
        if "error" in item and "result" not in item:
            raise JaegerQueryError(f"Jaeger answered an error: {item['error']}")
        result = item.get("result")
        if not isinstance(result, dict):
            raise JaegerQueryError(f"no 'result' object in the response: {str(item)[:200]}")
        results.append(result)
    return results


class JaegerQuery:
    """A small client of Jaeger v2's ``/api/v3`` trace endpoints (standard library HTTP)."""

    def __init__(self, base_url: str = DEFAULT_JAEGER_URL, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _get(self, path: str, params: dict[str, str]) -> list[Span]:
        query = urllib.parse.urlencode(params)
        url = f"{self.base_url}{path}" + (f"?{query}" if query else "")
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read(MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:  # nothing found (yet)
                return []
            detail = exc.read(2000).decode("utf-8", "replace")
            raise JaegerQueryError(f"GET {url}: HTTP {exc.code}: {detail}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise JaegerQueryError(f"GET {url}: {exc}") from exc
        if len(body) > MAX_RESPONSE_BYTES:
            raise JaegerQueryError(f"GET {url}: response above {MAX_RESPONSE_BYTES} bytes")
        spans: list[Span] = []
        for result in _results(body):
            try:
                spans.extend(spans_from_otlp_json(result))
            except ValueError as exc:
                raise JaegerQueryError(f"GET {url}: result is not OTLP JSON: {exc}") from exc
        return spans

    def find_traces(
        self,
        service: str,
        start_ns: int,
        end_ns: int,
        *,
        operation: str | None = None,
        search_depth: int | None = None,
    ) -> list[Span]:
        """Every span of the traces with a span of ``service`` that started in
        [start_ns, end_ns); [] when Jaeger has none (404)."""
        params = {
            "query.service_name": service,
            "query.start_time_min": rfc3339_ns(start_ns),
            "query.start_time_max": rfc3339_ns(end_ns),
        }
        if operation:
            params["query.operation_name"] = operation
        if search_depth:
            params["query.search_depth"] = str(search_depth)
        return self._get("/api/v3/traces", params)

    def get_trace(
        self, trace_id: str, *, start_ns: int | None = None, end_ns: int | None = None
    ) -> list[Span]:
        """Every span of one trace (hex id); [] when Jaeger does not have it (404)."""
        params = {}
        if start_ns is not None:
            params["start_time"] = rfc3339_ns(start_ns)
        if end_ns is not None:
            params["end_time"] = rfc3339_ns(end_ns)
        return self._get(f"/api/v3/traces/{urllib.parse.quote(trace_id)}", params)


class JaegerPoller:
    """Polls Jaeger for the services' traces and adds spans it has not seen to a store,
    so Topic and tester.query work on Jaeger's copy as on the embedded collector's.

    Failures are logged once and counted (``errors``), never raised: a Jaeger that
    is not up yet is just a source that has nothing yet.
    """

    def __init__(
        self,
        client: JaegerQuery,
        store: SpanStore,
        services: Iterable[str],
        *,
        since_ns: int | None = None,
        interval: float = 1.0,
        search_depth: int = 100,
    ) -> None:
        self.client = client
        self.store = store
        self.services = list(services)
        self.since_ns = since_ns if since_ns is not None else time.time_ns() - 60 * 10**9
        self.interval = interval
        self.search_depth = search_depth
        self.errors = 0
        self.polls = 0
        self.last_error: str | None = None
        self._seen: set[tuple[str, str]] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="jaeger-poller", daemon=True)

    def poll_once(self) -> int:
        """One round over the services; returns how many new spans were stored."""
        end_ns = time.time_ns() + 60 * 10**9  # clocks of the traced hosts may run ahead
        new: list[Span] = []
        for service in self.services:
            try:
                found = self.client.find_traces(
                    service, self.since_ns, end_ns, search_depth=self.search_depth
                )
            except JaegerQueryError as exc:
                self.errors += 1
                if self.last_error is None:
                    log.warning("reading traces from Jaeger failed (logged once): %s", exc)
                self.last_error = str(exc)
                continue
            for span in found:
                key = (span.trace_id, span.span_id)
                if key not in self._seen:
                    self._seen.add(key)
                    new.append(span)
        self.polls += 1
        if new:
            self.store.add(new)
        return len(new)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.poll_once()
            self._stop.wait(self.interval)

    def start(self) -> JaegerPoller:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(self.client.timeout + 5)

    def __enter__(self) -> JaegerPoller:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
