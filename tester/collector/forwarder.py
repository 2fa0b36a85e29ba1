"""Forwarding received spans to an upstream OTLP/HTTP endpoint (a collector, Jaeger).

    forwarder = Forwarder("http://localhost:4318")    # /v1/traces is appended
    forwarder.submit(spans)                            # never blocks, never raises
    forwarder.close()                                  # sends what is queued, briefly

Batches wait in a bounded queue and a background thread posts them as OTLP
protobuf. When the queue is full, new batches are dropped and counted; when the
upstream fails, the batch is counted as failed and the first failure is logged
(once). Nothing here can fail or slow down the tester's own run.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence

from tester.collector.spans import Span, request_from_otlp_json, spans_to_otlp_json

log = logging.getLogger(__name__)

DEFAULT_MAX_QUEUE = 1000  # batches (export requests), not spans
_STOP = object()


def traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL for a base endpoint (``/v1/traces`` appended once)."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith("/v1/traces") else f"{endpoint}/v1/traces"


class Forwarder:
    def __init__(
        self, endpoint: str, *, max_queue: int = DEFAULT_MAX_QUEUE, timeout: float = 5.0
    ) -> None:
        self.url = traces_url(endpoint)
        self.timeout = timeout
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max_queue)
        self._lock = threading.Lock()
        self.sent_spans = 0
        self.failed_spans = 0
        self.dropped_spans = 0
        self.last_error: str | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="otlp-forwarder", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------- producer side
    def submit(self, spans: Sequence[Span]) -> None:
        """Queue spans for the upstream; drops (and counts) them when the queue is full."""
        if not spans:
            return
        with self._lock:
            closed = self._closed
        if not closed:
            try:
                self._queue.put_nowait(list(spans))
                return
            except queue.Full:
                pass
        with self._lock:
            if not self.dropped_spans:
                log.warning("forwarding queue to %s full: dropping spans", self.url)
            self.dropped_spans += len(spans)

    def close(self, timeout: float = 5.0) -> None:
        """Stop accepting spans, send what is queued within ``timeout``, drop the rest."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        deadline = time.monotonic() + timeout
        while self._thread.is_alive():
            try:
                self._queue.put(_STOP, timeout=0.1)
                break
            except queue.Full:
                if time.monotonic() >= deadline:
                    break
        self._thread.join(max(0.0, deadline - time.monotonic()))
        left = 0
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, list):
                left += len(item)
        with self._lock:
            self.dropped_spans += left
        if self.failed_spans or self.dropped_spans:
            log.warning("forwarding to %s: %s", self.url, self.summary())

    def summary(self) -> str:
        with self._lock:
            text = f"{self.sent_spans} spans sent"
            if self.failed_spans:
                text += f", {self.failed_spans} failed ({self.last_error})"
            if self.dropped_spans:
                text += f", {self.dropped_spans} dropped"
            return text

    # ------------------------------------------------------------- sending side
    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            assert isinstance(item, list)
            self._send(item)

    def _send(self, spans: list[Span]) -> None:
        body = request_from_otlp_json(spans_to_otlp_json(spans)).SerializeToString()
        request = urllib.request.Request(
            self.url, data=body, headers={"Content-Type": "application/x-protobuf"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except (urllib.error.URLError, OSError, ValueError) as exc:
            with self._lock:
                first = self.failed_spans == 0
                self.failed_spans += len(spans)
                self.last_error = str(exc)
            if first:
                log.warning("forwarding spans to %s failed (logged once): %s", self.url, exc)
            return
        with self._lock:
            self.sent_spans += len(spans)
