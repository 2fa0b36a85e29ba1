"""Keep the access token out of logs and spans.

Opening ``/?token=<token>`` once is how a browser gets the token cookie, so
the token appears in a request's query string, which uvicorn's access log
(``--log-level debug``) and the HTTP server span (``url.query``) would
record as is. Every query parameter is read as the server reads it: its name
percent-decoded (``%74oken`` is ``token`` to Starlette, and was once let
through to both sinks). A parameter whose decoded name says it holds a
secret, or whose decoded value holds the access token (``register_secret``),
has its value replaced by ``[REDACTED]`` at both sinks.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import unquote_plus

REDACTED = "[REDACTED]"
#: parameter names (percent-decoded, case and surrounding blanks ignored) that hold secrets
SECRET_NAMES = frozenset({"token", "access_token", "api_key", "key"})
#: one query parameter in a query string, a path with a query, or a log line
_PARAM = re.compile(r"(?P<lead>^|[?&;])(?P<name>[^=&;?#\s\"]+)=(?P<value>[^&;#\s\"]*)")
#: values never to be logged or traced, however encoded in a parameter
_secrets: set[str] = set()


def register_secret(value: str) -> None:
    """Redact every parameter whose decoded value holds ``value`` (the access token)."""
    if value:
        _secrets.add(value)


def _secret(name: str, value: str) -> bool:
    if unquote_plus(name).strip().lower() in SECRET_NAMES:
        return True
    decoded = unquote_plus(value)
    return any(secret in decoded or secret in value for secret in _secrets)


def redact_query(text: str) -> str:
    """``%74oken=abc&x=1`` -> ``%74oken=[REDACTED]&x=1`` (a path with a query works too)."""

    def replace(m: re.Match[str]) -> str:
        if not _secret(m.group("name"), m.group("value")):
            return m.group(0)
        return f"{m.group('lead')}{m.group('name')}={REDACTED}"

    return _PARAM.sub(replace, text)


class QueryRedactor(logging.Filter):
    """A filter for uvicorn's loggers: redacts secrets in the message and its arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact_query(a) if isinstance(a, str) else a for a in record.args)
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
                ("url.full", redact_query(str(recorded.get("url.full", "")))),
                ("http.url", redact_query(str(recorded.get("http.url", "")))),
            ):
                if name in recorded:
                    span.set_attribute(name, value)
