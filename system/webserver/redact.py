"""Keep the access token out of logs and spans.

Opening ``/?token=<token>`` once is how a browser gets the token cookie, so
the token appears in a request's query string, which uvicorn's access log
(``--log-level debug``) and the HTTP server span (``url.query``) would
record as is. Every query parameter whose name says it holds a secret is
replaced by ``[REDACTED]`` at both sinks.
"""

from __future__ import annotations

import logging
import re
from typing import Any

REDACTED = "[REDACTED]"
_SECRET_PARAM = re.compile(
    r"(?P<name>(?:^|[?&;])(?:token|access_token|api_key|key)=)[^&;#\s\"]*", re.IGNORECASE
)


def redact_query(text: str) -> str:
    """``token=abc&x=1`` -> ``token=[REDACTED]&x=1`` (a path with a query works too)."""
    return _SECRET_PARAM.sub(lambda m: m.group("name") + REDACTED, text)


class QueryRedactor(logging.Filter):
    """A filter for uvicorn's loggers: redacts secrets in the message and its arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_query(a) if isinstance(a, str) else a for a in record.args
            )
        if isinstance(record.msg, str):
            record.msg = redact_query(record.msg)
        return True


def install_log_redaction() -> None:
    for name in ("uvicorn.access", "uvicorn.error", "uvicorn"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, QueryRedactor) for f in logger.filters):
            logger.addFilter(QueryRedactor())


def redact_span(span: Any, scope: dict[str, Any]) -> None:
    """FastAPIInstrumentor ``server_request_hook``: overwrite the recorded query."""
    query = scope.get("query_string", b"")
    if query and span is not None and span.is_recording():
        text = query.decode("latin-1")
        redacted = redact_query(text)
        if redacted != text:
            recorded = getattr(span, "attributes", None) or {}
            for name, value in (
                ("url.query", redacted),
                ("http.target", f"{scope.get('path', '')}?{redacted}"),
            ):
                if name in recorded:
                    span.set_attribute(name, value)
