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


def test_sampling_settings_on_llm_option_and_their_attributes():
    spec = parse_llm_option(
        "name=a,base_url=http://h/v1,model=m,temperature=0.9,top_p=0.95,seed=7,max_tokens=800"
    )
    assert (spec.temperature, spec.top_p, spec.seed, spec.max_tokens) == (0.9, 0.95, 7, 800)
    from system.providers.base import Sampling, shifted

    sampling = Sampling(spec.temperature, spec.top_p, spec.seed, spec.max_tokens)
    assert sampling.attributes() == {
        "gen_ai.request.temperature": 0.9, "gen_ai.request.top_p": 0.95,
        "gen_ai.request.seed": 7, "gen_ai.request.max_tokens": 800,
    }  # fmt: skip
    assert Sampling().attributes() == {}  # nothing set: nothing sent, nothing recorded
    assert shifted(sampling, 0.3).temperature == 1.2
    assert shifted(Sampling(), 0.3).temperature == 1.3  # from the default of 1.0
    assert shifted(Sampling(1.9), 0.3).temperature == 2.0  # capped


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("temperature=nan", "must be a finite number"),
        ("temperature=inf", "must be a finite number"),
        ("temperature=-0.1", "between 0 and 2"),
        ("temperature=2.01", "between 0 and 2"),
        ("temperature=hot", "must be a number"),
        ("top_p=0", "above 0 and at most 1"),
        ("top_p=1.5", "above 0 and at most 1"),
        ("seed=-1", "an integer from 0"),
        ("seed=7.5", "must be an integer"),
        ("max_tokens=0", "an integer from 1"),
        ("max_tokens=10000000", "an integer from 1"),
    ],
)
def test_bad_sampling_settings_are_refused(field, message):
    with pytest.raises(CatalogError, match=message):
        parse_llm_option(f"name=a,base_url=http://h/v1,model=m,{field}")


def test_sampling_settings_from_the_env_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "OPENAI_API_KEY=k\nOPENAI_TEMPERATURE=0.7\nOPENAI_TOP_P=0.9\nOPENAI_SEED=3\n"
        "OPENAI_MAX_TOKENS=500\n"
    )
    (spec,) = resolve_providers([], environ={}, env_file=env_file).specs
    assert (spec.temperature, spec.top_p, spec.seed, spec.max_tokens) == (0.7, 0.9, 3, 500)
    env_file.write_text("OPENAI_API_KEY=k\nOPENAI_TEMPERATURE=NaN\n")
    with pytest.raises(CatalogError, match="OPENAI_\\* settings: temperature must be a finite"):
        resolve_providers([], environ={}, env_file=env_file)


def test_sampling_settings_travel_to_producers():
    spec = parse_llm_option("name=a,base_url=http://h/v1,model=m,temperature=0.5,seed=9")
    from system.providers.catalog import ProviderSetup

    env = producer_environment(ProviderSetup([spec]), 2)
    (back,), _ = read_producer_config(env)
    assert back.temperature == 0.5 and back.seed == 9


def test_a_provider_without_max_tokens_gets_a_cap_sized_to_the_request():
    from system.providers.catalog import ProviderSetup, default_max_tokens

    unset = parse_llm_option("name=a,base_url=http://h/v1,model=m")
    mine = parse_llm_option("name=b,base_url=http://h/v1,model=m,max_tokens=100")
    env = producer_environment(ProviderSetup([unset, mine]), 1, request_size=30)
    specs, _ = read_producer_config(env)
    assert [s.max_tokens for s in specs] == [default_max_tokens(30), 100]
    assert default_max_tokens(30) == 64 + 16 * 30
    specs, _ = read_producer_config(producer_environment(ProviderSetup([unset]), 1))
    assert specs[0].max_tokens is None  # no request size given: left to the server


def test_deadline_field_and_its_default():
    """Issue 21 item 1: a total deadline per request, documented default twice the timeout."""
    spec = parse_llm_option("name=a,base_url=http://h/v1,model=m,timeout=5,deadline=7.5")
    assert (spec.timeout_s, spec.deadline_s, spec.request_deadline_s) == (5, 7.5, 7.5)
    assert parse_llm_option("name=a,base_url=http://h/v1,model=m").request_deadline_s == 120
    assert ProviderSpec.from_dict(spec.to_dict()).request_deadline_s == 7.5
    (known,) = resolve_providers(
        [], environ={"OPENAI_API_KEY": "k", "OPENAI_DEADLINE": "30"}, env_file=None
    ).specs
    assert known.request_deadline_s == 30
    for bad in ("0", "-1", "nan", "x"):
        with pytest.raises(CatalogError, match="deadline"):
            parse_llm_option(f"name=a,base_url=http://h/v1,model=m,deadline={bad}")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:99999/v1", "Port out of range"),
        ("http:///v1", "has no host"),
        ("http://:0/v1", "has no host"),
        ("http://[::1/v1", "Invalid IPv6 URL"),
        ("http://h:0/v1", "port must be from 1 to 65535"),
        ("http://h:x/v1", "not a valid URL"),
    ],
)
def test_base_url_needs_a_host_and_a_valid_port(url, message):
    """Issue 21 item 14: a base_url is checked for its host and port, not its scheme only."""
    with pytest.raises(CatalogError, match=message):
        parse_llm_option(f"name=a,base_url={url},model=m")


def test_base_url_of_a_well_known_provider_is_checked():
    with pytest.raises(CatalogError, match=r"OPENAI_BASE_URL: base_url .* has no host"):
        resolve_providers(
            [], environ={"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "https:///v1"}, env_file=None
        )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("model=n", "model is given twice"),
        ("timeout=5,timeout_s=6", "timeout_s is given twice"),
        ("url=http://g/v1", "url is given twice"),
        ("timeout=1e9", "timeout must be 0.1 to 3600 seconds"),
        ("timeout=0.001", "timeout must be 0.1 to 3600 seconds"),
        ("breaker_cooldown=86400", "breaker_cooldown must be 0.1 to 3600 seconds"),
        ("deadline=1e9", "deadline must be 0.1 to 7200 seconds"),
        ("deadline=5,deadline_s=6", "deadline_s is given twice"),
    ],
)
def test_a_field_twice_and_absurd_durations_are_refused(extra, message):
    """Issue 21 item 14: the second value no longer silently wins; timeouts stay sane."""
    with pytest.raises(CatalogError, match=message):
        parse_llm_option(f"name=a,base_url=http://h/v1,model=m,{extra}")


def test_ipv6_base_url_with_a_port_is_accepted():
    assert parse_llm_option("name=a,base_url=http://[::1]:8000/v1,model=m").base_url == (
        "http://[::1]:8000/v1"
    )
