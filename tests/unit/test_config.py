from pathlib import Path

import pytest

from system.orchestrator.config import ConfigError, build_run_config, topic_slug
from system.telemetry.setup import TracingConfigError, configure_tracing, resolve_endpoint


def test_slug_is_filesystem_safe():
    assert topic_slug("Paris attractions") == "paris-attractions"
    assert topic_slug("Paris   ATTRACTIONS") == "paris-attractions"  # the same topic
    assert topic_slug("Café & Crème!").startswith("café-crème_")
    for topic in ("a/b", "x\\y", "..", "東京の観光名所", "C:\\tips", "x" * 200, ".hidden"):
        slug = topic_slug(topic)
        assert slug and "/" not in slug and "\\" not in slug and not slug.startswith(".")
        assert len(slug.encode()) < 255


def test_lossy_slugs_do_not_collide():
    """Issue 13 item 3: "C++ tips" must not resume "C tips" (nor C#, nor Café/Cafe)."""
    topics = ["C tips", "C++ tips", "C# tips", "C-tips", "c tips 2ad4aa63ba", "Café", "Cafe"]
    topics += ["x" * 70, "x" * 71, "東京の観光名所", "東京の観光名所!"]
    slugs = [topic_slug(t) for t in topics]
    assert len(set(slugs)) == len(topics), slugs
    assert topic_slug("C tips") == "c-tips"


def test_output_folder_of_another_topic_is_refused(tmp_path: Path):
    build_run_config(topic="C tips", output=tmp_path)
    (tmp_path / "run.json").write_text('{"topic": "C tips"}')
    build_run_config(topic="c  TIPS", output=tmp_path)  # the same topic resumes
    with pytest.raises(ConfigError, match="another topic"):
        build_run_config(topic="C++ tips", output=tmp_path)


@pytest.mark.parametrize("name", ["attributes.txt", "run.json"])
def test_output_file_that_is_a_directory_is_refused(tmp_path: Path, name: str):
    (tmp_path / name).mkdir()
    with pytest.raises(ConfigError, match="not a regular file"):
        build_run_config(topic="ok", output=tmp_path)


def test_default_output_is_inside_the_output_root(tmp_path: Path):
    config = build_run_config(topic="Paris attractions", output_root=tmp_path)
    assert config.output_dir == tmp_path / "paris-attractions"
    assert config.output_dir.is_dir()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"topic": "   "}, "empty"),
        ({"topic": "a/b"}, "'/'"),
        ({"topic": ".."}, "'..'"),
        ({"topic": "a\x00b"}, "control"),
        ({"topic": "!!!"}, "letters or digits"),
        ({"topic": "x" * 300}, "limit"),
        ({"topic": "ok", "producers": 0}, "producers"),
        ({"topic": "ok", "producers": 10_000}, "producers"),
        ({"topic": "ok", "request_size": 0}, "request size"),
        ({"topic": "ok", "iterations": 0}, "iterations"),
        (
            {"topic": "ok", "provider": "env", "environ": {}, "env_file": None},
            "no LLM provider configured",
        ),
        ({"topic": "ok", "llm": ["name=a,base_url=http://x/v1,model=m"]}, "--provider env"),
        ({"topic": "ok", "provider": "gpt"}, "unknown provider"),
    ],
)
def test_bad_configuration_is_refused(tmp_path: Path, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        build_run_config(output_root=tmp_path, **kwargs)
    assert not any(tmp_path.iterdir())


def test_unwritable_output_is_refused(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="cannot create output directory"):
        build_run_config(topic="ok", output=blocker / "sub")


@pytest.mark.parametrize(
    ("trace_ep", "env", "expected"),
    [
        (None, {}, (None, "http/protobuf")),
        ("http://h:4318", {}, ("http://h:4318/v1/traces", "http/protobuf")),
        (
            None,
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://h:4318/"},
            ("http://h:4318/v1/traces", "http/protobuf"),
        ),
        (
            None,
            {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://h/custom"},
            ("http://h/custom", "http/protobuf"),
        ),
        ("http://h:4317", {"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, ("http://h:4317", "grpc")),
    ],
)
def test_endpoint_resolution(trace_ep, env, expected):
    assert resolve_endpoint(trace_ep, env) == expected


@pytest.mark.parametrize(
    ("trace_ep", "env"),
    [("localhost:4318", {}), ("http://h", {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"})],
)
def test_bad_tracing_configuration(trace_ep, env):
    with pytest.raises(TracingConfigError):
        resolve_endpoint(trace_ep, env)


def test_no_endpoint_or_disabled_means_no_sdk():
    assert not configure_tracing("orchestrator", environ={}).enabled
    disabled = {"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://h:1"}
    assert not configure_tracing("orchestrator", environ=disabled).enabled


def test_web_mode_takes_lever_options_for_every_run_it_starts():
    from system.orchestrator.cli import parse_config, run_options_from

    args, config = parse_config(
        ["--control-port", "0", "--no-partitions", "--saturation", "0.05", "--near-duplicates"]
    )
    assert config is None  # no --topic: web mode
    levers = run_options_from(args).levers
    assert not levers.partitions and levers.saturation == 0.05 and levers.near_duplicates


def test_arms_are_validated_against_the_levers():
    from system.orchestrator.config import ConfigError, LeverConfig, validate_levers

    assert validate_levers(LeverConfig(arms=("plain", "rare"))).arms == ("plain", "rare")
    for levers, message in (
        (LeverConfig(arms=("plain", "cold")), "unknown arm"),
        (LeverConfig(arms=("avoid",), shared_state=False), "need a lever that is off"),
        (LeverConfig(arms=("focus",), partitions=False), "need a lever that is off"),
        (LeverConfig(arms=("plain",), adaptive=False), "needs the adaptive strategy"),
    ):
        with pytest.raises(ConfigError, match=message):
            validate_levers(levers)
