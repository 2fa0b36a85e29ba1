"""Token redaction reads parameters as the server does (system/webserver/redact.py).

Starlette percent-decodes query parameter names, so ``/?%74oken=<token>``
sets the access cookie like ``/?token=<token>``; redaction once matched only
the literal ``token=`` and let the token through to the access log and the
span's ``url.query`` (issue 21, item 18).
"""

import pytest

from system.webserver import redact
from system.webserver.redact import REDACTED, redact_query

TOKEN = "a-recognizable-access-token-4711"


@pytest.mark.parametrize(
    "query",
    [
        f"token={TOKEN}",
        f"%74oken={TOKEN}",
        f"%74%6F%6B%65%6E={TOKEN}",
        f"TOKEN={TOKEN}",
        f"x=1&t%6fken={TOKEN}&y=2",
        f"+token+={TOKEN}",
        f"access%5Ftoken={TOKEN}",
        "token=%61-recognizable-access-token-4711",
        f"/?%74oken={TOKEN}",
        f'"GET /?%74oken={TOKEN} HTTP/1.1" 303',
    ],
)
def test_a_secret_parameter_is_redacted_however_its_name_is_encoded(query: str) -> None:
    redacted = redact_query(query)
    assert REDACTED in redacted, redacted
    assert TOKEN not in redacted
    assert "recognizable" not in redacted


def test_the_access_token_is_redacted_under_any_parameter_name(monkeypatch) -> None:
    monkeypatch.setattr(redact, "_secrets", set())
    redact.register_secret(TOKEN)
    for query in (f"x={TOKEN}", "x=%61-recognizable-access-token-4711", f"q=pre{TOKEN}post"):
        redacted = redact_query(query)
        assert "recognizable" not in redacted, redacted
        assert redacted.endswith(REDACTED)


def test_other_parameters_are_kept() -> None:
    assert redact_query("limit=20&after=5&topic=tokens") == "limit=20&after=5&topic=tokens"
    assert redact_query("/api/runs?monkey=1") == "/api/runs?monkey=1"
