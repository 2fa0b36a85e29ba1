import json

import pytest

from system.providers.catalog import (
    PROVIDERS_ENV,
    CatalogError,
    parse_llm_option,
    producer_environment,
    read_producer_config,
    resolve_providers,
    share_limits,
)
from system.providers.spec import ProviderSpec


def test_parse_llm_option_full():
    spec = parse_llm_option(
        "name=local,base_url=http://127.0.0.1:8000/v1,model=qwen,key_env=LOCAL_KEY,"
        "weight=2.5,rpm=60,tpm=10000,timeout=30,breaker_failures=2,breaker_cooldown=3"
    )
    assert spec == ProviderSpec(
        name="local", base_url="http://127.0.0.1:8000/v1", model="qwen", key_env="LOCAL_KEY",
        weight=2.5, rpm=60, tpm=10000, timeout_s=30, breaker_failures=2, breaker_cooldown_s=3,
    )  # fmt: skip
    assert spec.genai_provider == "local"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name=a,base_url=http://h/v1,model=m,key=sk-123", "not accepted on the command line"),
        ("name=a,base_url=http://h/v1", "model= is required"),
        ("name=a,base_url=ftp://h,model=m", "http://"),
        ("name=a,base_url=http://h/v1,model=m,weight=x", "must be a number"),
        ("name=a,base_url=http://h/v1,model=m,rpm=0", "must be positive"),
        ("name=a,base_url=http://h/v1,model=m,colour=red", "unknown field"),
        ("name=a b,base_url=http://h/v1,model=m", "name must be"),
        ("name=a,base_url=http://h/v1,model=m,key_env=1X", "environment variable name"),
    ],
)
def test_parse_llm_option_errors(text, message):
    with pytest.raises(CatalogError, match=message):
        parse_llm_option(text)


def test_well_known_providers_from_environment_and_env_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("GEMINI_API_KEY=from-file\nGEMINI_MODEL=gemini-x\nOPENAI_API_KEY=\n")
    setup = resolve_providers(
        [], environ={"ANTHROPIC_API_KEY": "from-env", "ANTHROPIC_WEIGHT": "2"}, env_file=env_file
    )
    by_name = {s.name: s for s in setup.specs}
    assert set(by_name) == {"anthropic", "gemini"}
    assert by_name["anthropic"].weight == 2 and by_name["anthropic"].genai_provider == "anthropic"
    assert by_name["gemini"].model == "gemini-x"
    assert by_name["gemini"].genai_provider == "gcp.gemini"
    assert setup.secret_env == {"GEMINI_API_KEY": "from-file"}  # only what the env lacks
    assert "from-file" not in repr(setup)


def test_no_provider_is_a_clear_error(tmp_path):
    with pytest.raises(CatalogError, match="no LLM provider configured"):
        resolve_providers([], environ={}, env_file=tmp_path / "missing.env")


def test_missing_key_for_llm_option():
    with pytest.raises(CatalogError, match=r"no API key for provider\(s\) a \(set A_KEY\)"):
        resolve_providers(["name=a,base_url=http://h/v1,model=m,key_env=A_KEY"], environ={},
                          env_file=None)  # fmt: skip


def test_keyless_local_endpoint_and_duplicate_names():
    setup = resolve_providers(["name=a,base_url=http://h/v1,model=m"], environ={}, env_file=None)
    assert setup.specs[0].key_env is None
    with pytest.raises(CatalogError, match="unique"):
        resolve_providers(["name=a,base_url=http://h/v1,model=m"] * 2, environ={}, env_file=None)


def test_limits_are_shared_among_producers_and_round_trip():
    spec = ProviderSpec("a", "http://h/v1", "m", key_env="K", rpm=60, tpm=9000)
    assert share_limits([spec], 4)[0].rpm == 15 and share_limits([spec], 4)[0].tpm == 2250
    from system.providers.catalog import ProviderSetup

    env = producer_environment(ProviderSetup([spec], {"K": "secret"}), 3, record_content=True)
    assert env["K"] == "secret" and "secret" not in env[PROVIDERS_ENV]
    assert json.loads(env[PROVIDERS_ENV])["providers"][0]["rpm"] == 20
    specs, record = read_producer_config(env)
    assert record and specs[0].rpm == 20 and specs[0].key_env == "K"
