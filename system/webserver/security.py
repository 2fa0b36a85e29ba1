"""Who may call the API: same-origin browsers, and the access token when exposed.

- Cross-origin browser requests that change state are refused (403): the
  ``Origin`` header, when present, must name this server, and
  ``Sec-Fetch-Site: cross-site`` is refused. No CORS headers are ever sent,
  so other origins cannot read responses either.
- Bound to a non-loopback address, every API call except ``/api/health``
  needs the access token: ``Authorization: Bearer <token>``, an
  ``X-Access-Token`` header, or the ``access_token`` cookie set by opening
  ``/?token=<token>`` once.
- DNS rebinding: every request's ``Host`` header must name this server: a
  loopback name (``localhost``, ``127.0.0.1``, ``::1``), the bound address,
  or a name given with ``--allowed-host`` (``*`` turns the check off).
  Otherwise a page on ``evil.example`` whose name is made to resolve to
  127.0.0.1 could start runs and read every answer as same-origin.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import HTTPException, Request

TOKEN_COOKIE = "access_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True)
class AccessPolicy:
    token: str | None = None  # None: loopback only, no token needed
    #: host names a request may address (Host header, port ignored); "*" = any
    allowed_hosts: frozenset[str] = LOOPBACK_NAMES

    def host_allowed(self, host_header: str | None) -> bool:
        if "*" in self.allowed_hosts:
            return True
        if not host_header:
            return False
        try:
            name = urlsplit(f"//{host_header}").hostname
        except ValueError:
            return False
        return name is not None and name.rstrip(".") in self.allowed_hosts

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
