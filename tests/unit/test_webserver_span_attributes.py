"""server.address is the host alone, server.port apart (HTTP semantic conventions)."""

from __future__ import annotations

from typing import Any

import pytest

from system.webserver.span_attributes import server_request_hook, split_host


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("127.0.0.1:8080", ("127.0.0.1", 8080)),
        ("localhost", ("localhost", 9999)),
        ("[::1]:8443", ("::1", 8443)),
        ("[::1]", ("::1", 9999)),
        ("example.org:80", ("example.org", 80)),
    ],
)
def test_split_host(header: str, expected: tuple[str, int]) -> None:
    assert split_host(header, 9999) == expected


class _Span:
    def __init__(self) -> None:
        self.attributes: dict[str, Any] = {"server.address": "127.0.0.1:8080"}

    def is_recording(self) -> bool:
        return True

    def set_attribute(self, key: str, value: Any) -> None:
        self.attributes[key] = value


def test_hook_rewrites_the_instrumentations_host_and_port() -> None:
    span = _Span()
    scope = {"headers": [(b"host", b"127.0.0.1:8080")], "server": ("127.0.0.1", 8080)}
    server_request_hook(span, scope)
    assert span.attributes == {"server.address": "127.0.0.1", "server.port": 8080}


def test_hook_without_a_host_header_uses_the_bound_socket() -> None:
    span = _Span()
    server_request_hook(span, {"headers": [], "server": ("127.0.0.1", 4321)})
    assert span.attributes == {"server.address": "127.0.0.1", "server.port": 4321}
