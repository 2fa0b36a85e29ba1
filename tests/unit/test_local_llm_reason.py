"""tester.local_llm.unavailable_reason in both install states, whichever this one is:
without the llama.cpp server the reason names it (checked first), with it the
missing model file."""

from __future__ import annotations

import importlib.util

import pytest

from tester import local_llm


def _installed(*absent: str):
    real = importlib.util.find_spec

    def find_spec(name: str, *args, **kwargs):
        if name in absent:
            return None
        if name in local_llm._SERVER_MODULES:
            return real("json")  # any module: "installed"
        return real(name, *args, **kwargs)

    return find_spec


def test_without_the_server_the_reason_is_the_server(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", _installed("llama_cpp", "sse_starlette"))
    reason = local_llm.unavailable_reason(tmp_path / "nope.gguf")
    assert reason == f"llama-cpp-python[server] not installed: {local_llm.EXTRA_HINT}"
    with pytest.raises(local_llm.LocalLLMUnavailable, match=r"llama-cpp-python\[server\]"):
        local_llm.LocalLLM(model_path=tmp_path / "nope.gguf").start()


def test_a_missing_server_module_is_named(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", _installed("sse_starlette"))
    reason = local_llm.unavailable_reason(tmp_path / "nope.gguf")
    assert reason is not None and "(no sse_starlette)" in reason


def test_with_the_server_the_reason_is_the_model_file(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", _installed())
    assert local_llm.server_missing() is None
    reason = local_llm.unavailable_reason(tmp_path / "nope.gguf")
    assert reason == f"model file {tmp_path / 'nope.gguf'} does not exist"
    model = tmp_path / "here.gguf"
    model.write_bytes(b"GGUF")
    assert local_llm.unavailable_reason(model) is None
