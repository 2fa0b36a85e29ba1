"""The access token never reaches the webserver's log or spans, in any encoding
(issue 21, item 18): the real webserver at ``--log-level debug`` (access log on),
its spans in the embedded collector."""

from __future__ import annotations

import pytest

from tester.constellation import ServiceConstellation

pytestmark = pytest.mark.integration

TOKEN = "a-recognizable-access-token-4711"
#: each request's query, and whether the server takes it as the token (303 + cookie)
QUERIES = [
    (f"%74oken={TOKEN}", 303),
    (f"t%6Fk%65n={TOKEN}", 303),
    ("token=%61-recognizable-access-token-4711", 303),
    (f"x=1&%74oken={TOKEN}", 303),
    (f"TOKEN={TOKEN}", 200),
    (f"x={TOKEN}", 200),
    ("x=%61-recognizable-access-token-4711", 200),
]


def test_the_token_is_redacted_however_the_query_encodes_it(
    constellation: ServiceConstellation, collector
) -> None:
    web = constellation.start_web_mode(log_level="debug", access_token=TOKEN)
    with web.client() as http:
        for query, status in QUERIES:
            response = http.get(f"/?{query}")
            assert response.status_code == status, (query, response.status_code)
    collector.store.wait_for(lambda s: s.attr("url.path") == "/", timeout=30, count=len(QUERIES))
    log = web.webserver.log_text()
    assert log.count("[REDACTED]") >= len(QUERIES), log[-3000:]
    assert "recognizable" not in log, log[-3000:]
    for span in collector.store.all():
        assert "recognizable" not in repr(span.attributes), span
        assert "recognizable" not in repr([e.attributes for e in span.events]), span
