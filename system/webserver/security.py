"""Who may call the API: same-origin browsers, and the access token when exposed.

- Cross-origin browser requests that change state are refused (403): the
  ``Origin`` header, when present, must name this server, and
  ``Sec-Fetch-Site: cross-site`` is refused. No CORS headers are ever sent,
  so other origins cannot read responses either.
- Bound to a non-loopback address, every API call except ``/api/health``
  needs the access token: ``Authorization: Bearer <token>``, an
  ``X-Access-Token`` header, or the ``access_token`` cookie set by opening
  ``/?token=<token>`` once.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import HTTPException, Request

TOKEN_COOKIE = "access_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class AccessPolicy:
    token: str | None = None  # None: loopback only, no token needed

    def token_matches(self, candidate: str | None) -> bool:
        if not (self.token and candidate):
            return False
        return hmac.compare_digest(candidate.encode(), self.token.encode())


def _presented_token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("x-access-token") or request.cookies.get(TOKEN_COOKIE)


def check_request(request: Request, policy: AccessPolicy) -> None:
    """Raise 401/403 unless this request may proceed."""
    if request.method in UNSAFE_METHODS:
        origin = request.headers.get("origin")
        if origin is not None and urlsplit(origin).netloc != request.headers.get("host"):
            raise HTTPException(403, "cross-origin request refused")
        if request.headers.get("sec-fetch-site") == "cross-site":
            raise HTTPException(403, "cross-site request refused")
    needs_token = policy.token is not None and request.url.path != "/api/health"
    if needs_token and not policy.token_matches(_presented_token(request)):
        raise HTTPException(401, "access token required (Authorization: Bearer <token>)")
