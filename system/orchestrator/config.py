"""Run configuration and its validation (shared by the CLI and, later, the HTTP API).

Every check here runs before any process is spawned or any file is written,
so bad input costs nothing and leaves nothing behind.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from system.output import slug
from system.output.claim import OutputError, check_output_files
from system.providers.catalog import (
    DEFAULT_ENV_FILE,
    CatalogError,
    ProviderSetup,
    producer_environment,
    resolve_providers,
    secret_env_for,
)
from system.providers.spec import ProviderSpec

MAX_PRODUCERS = 256  # one run from the command line (each producer is a process)
MAX_REQUEST_SIZE = 1000
MAX_ITERATIONS = 10_000_000
MAX_TOPIC_LENGTH = 200
DEFAULT_PRODUCERS = 5
DEFAULT_REQUEST_SIZE = 60
DEFAULT_MAX_RESTARTS = 3
DEFAULT_AVOID_BUDGET = 400
DEFAULT_SATURATION = 0.02
#: saturation patience: requests (batches) the novelty must stay low for, and seconds;
#: both must pass. In requests by default, so waiting costs the same on any model speed
DEFAULT_PATIENCE_REQUESTS = 20
DEFAULT_PATIENCE_S = 0.0
#: a run with no reachable provider for this long fails (--max-degraded-s; 0 = never)
DEFAULT_MAX_DEGRADED_S = 300.0
#: how the topic is split among producers (--partition-by)
PARTITION_BY = ("letters", "subtopics")
DEFAULT_PARTITION_BY = "letters"
AVAILABLE_PROVIDERS = ("test", "env")
#: the simulated LLM's profiles (system.providers.simulated.PROFILES)
SIM_PROFILES = ("weak", "strong")
DEFAULT_SIM_PROFILE = "weak"


class ConfigError(ValueError):
    """Invalid run configuration; the message is shown to the user as is."""


@dataclass(frozen=True)
class LeverConfig:
    """The discovery-efficiency levers (README "Efficiency levers"); on where they help."""

    shared_state: bool = True  # push deltas of new uniques; avoid list in prompts
    avoid_budget: int = DEFAULT_AVOID_BUDGET  # tokens of avoid list per prompt
    partitions: bool = True  # alphabetical partitions, split / retire
    prefilter: bool = True  # producers drop known candidates, send keys
    saturation: float = DEFAULT_SATURATION  # novelty threshold; 0 = never stop by saturation
    saturation_window: int = 0  # candidates; 0 = 20 requests' worth (at least 200)
    saturation_patience_s: float = DEFAULT_PATIENCE_S
    saturation_patience_requests: int = DEFAULT_PATIENCE_REQUESTS
    adaptive: bool = True  # measure strategies' yield, shift producers to the best
    near_duplicates: bool = False  # similarity check after the exact key
    #: letters: alphabetical ranges; subtopics: labels an LLM proposes (partitions on)
    partition_by: str = DEFAULT_PARTITION_BY
    #: stop when the completeness estimate's lower bound reaches this (0 = off)
    target_coverage: float = 0.0
    #: adaptive strategy: the arms it may use (empty: every arm the levers allow)
    arms: tuple[str, ...] = ()

    def window_for(self, request_size: int) -> int:
        return self.saturation_window or max(200, 20 * request_size)

    def enabled(self) -> list[str]:
        names = [
            name
            for name, on in (
                ("shared_state", self.shared_state and self.avoid_budget > 0),
                ("partitions", self.partitions),
                ("subtopics", self.partitions and self.partition_by == "subtopics"),
                ("prefilter", self.prefilter),
                ("saturation", self.saturation > 0),
                ("adaptive", self.adaptive),
                ("near_duplicates", self.near_duplicates),
            )
            if on
        ]
        return names


@dataclass(frozen=True)
class RunConfig:
    topic: str
    output_dir: Path
    producers: int = DEFAULT_PRODUCERS
    iterations: int | None = None
    provider: str = "test"
    request_size: int = DEFAULT_REQUEST_SIZE
    max_restarts: int = DEFAULT_MAX_RESTARTS
    sim_latency_ms: float = 0.0
    sim_profile: str = DEFAULT_SIM_PROFILE
    #: provider "env": the endpoints (specs name their key variable, never a key)
    providers: tuple[ProviderSpec, ...] = ()
    record_content: bool = False
    adaptive_weights: bool = False
    levers: LeverConfig = field(default_factory=lambda: LeverConfig())
    max_degraded_s: float = DEFAULT_MAX_DEGRADED_S

    @property
    def slug(self) -> str:
        return topic_slug(self.topic)

    @property
    def attributes_path(self) -> Path:
        return self.output_dir / "attributes.txt"

    @property
    def summary_path(self) -> Path:
        return self.output_dir / "run.json"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["output_dir"] = str(self.output_dir)
        return data


def validate_topic(topic: str | None) -> str:
    if topic is None or not topic.strip():
        raise ConfigError("topic must not be empty")
    topic = topic.strip()
    if len(topic) > MAX_TOPIC_LENGTH:
        raise ConfigError(f"topic is {len(topic)} characters long; the limit is {MAX_TOPIC_LENGTH}")
    if any(unicodedata.category(ch).startswith("C") for ch in topic):
        raise ConfigError("topic must not contain control characters")
    if "/" in topic or "\\" in topic or ".." in topic:
        raise ConfigError("topic must not contain '/', '\\' or '..'")
    if not slug.has_word_characters(topic):
        raise ConfigError(f"topic {topic!r} has no letters or digits to name its output folder")
    return topic


def topic_slug(topic: str) -> str:
    """The output folder's name: see system.output.slug (collision-free, any script)."""
    return slug.topic_slug(topic)


def _int_in_range(name: str, value: int, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be an integer")
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high} (got {value})")
    return value


def resolve_output_dir(slug: str, output: str | Path | None, output_root: Path) -> Path:
    if output is not None:
        if not str(output).strip():
            raise ConfigError("--output must not be empty (it would write into this folder)")
        return Path(output).expanduser().resolve()
    root = output_root.resolve()
    path = (root / slug).resolve()
    if root != path.parent:
        raise ConfigError(f"output path {path} escapes the output root {root}")
    return path


def check_log_dir(log_dir: str | Path | None) -> Path | None:
    """--log-dir: a folder that exists or can be made, and is writable (exit 2, not 1 at spawn)."""
    if log_dir is None:
        return None
    if not str(log_dir).strip():
        raise ConfigError("--log-dir must not be empty")
    path = Path(log_dir).expanduser()
    if path.exists() and not path.is_dir():
        raise ConfigError(f"--log-dir {path} exists and is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create --log-dir {path}: {exc.strerror}") from exc
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(f"--log-dir {path} is not writable")
    return path


def check_output_writable(output_dir: Path, topic: str | None = None) -> None:
    """Create the folder and prove attributes.txt can be appended to (and, given the
    topic, that the folder's files are regular files of this topic's run)."""
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create output directory {output_dir}: {exc.strerror}") from exc
    target = output_dir / "attributes.txt"
    if target.exists() and not os.access(target, os.W_OK):
        raise ConfigError(f"output file {target} is not writable")
    if not os.access(output_dir, os.W_OK | os.X_OK):
        raise ConfigError(f"output directory {output_dir} is not writable")
    if topic is not None:
        try:
            check_output_files(output_dir, topic)
        except OutputError as exc:
            raise ConfigError(str(exc)) from exc


def build_run_config(
    *,
    topic: str | None,
    producers: int = DEFAULT_PRODUCERS,
    iterations: int | None = None,
    provider: str = "test",
    request_size: int = DEFAULT_REQUEST_SIZE,
    output: str | Path | None = None,
    output_root: Path = Path("output"),
    max_restarts: int = DEFAULT_MAX_RESTARTS,
    sim_latency_ms: float = 0.0,
    sim_profile: str = DEFAULT_SIM_PROFILE,
    llm: Sequence[str] = (),
    env_file: str | Path | None = DEFAULT_ENV_FILE,
    environ: Mapping[str, str] | None = None,
    record_content: bool = False,
    adaptive_weights: bool = False,
    levers: LeverConfig | None = None,
    max_producers: int = MAX_PRODUCERS,
    max_degraded_s: float = DEFAULT_MAX_DEGRADED_S,
) -> RunConfig:
    topic = validate_topic(topic)
    levers = validate_levers(levers or LeverConfig())
    _int_in_range("producers", producers, 1, max_producers)
    if iterations is not None:
        _int_in_range("iterations", iterations, 1, MAX_ITERATIONS)
    _int_in_range("request size", request_size, 1, MAX_REQUEST_SIZE)
    _int_in_range("max restarts", max_restarts, 0, 100)
    if provider not in AVAILABLE_PROVIDERS:
        raise ConfigError(
            f"unknown provider {provider!r}; choose one of: " + ", ".join(AVAILABLE_PROVIDERS)
        )
    if not 0 <= max_degraded_s <= 86_400:  # also refuses nan
        raise ConfigError("--max-degraded-s must be between 0 and 86400 s")
    if not 0 <= sim_latency_ms <= 600_000:
        raise ConfigError("simulated latency must be between 0 and 600000 ms")
    if sim_profile not in SIM_PROFILES:
        raise ConfigError(
            f"unknown simulated-model profile {sim_profile!r}; choose one of: "
            + ", ".join(SIM_PROFILES)
        )
    providers: tuple[ProviderSpec, ...] = ()
    if llm and provider != "env":
        raise ConfigError("--llm describes real endpoints: use it with --provider env")
    if provider == "env":
        try:
            providers = tuple(resolve_providers(llm, environ=environ, env_file=env_file).specs)
        except CatalogError as exc:
            raise ConfigError(str(exc)) from exc
    output_dir = resolve_output_dir(topic_slug(topic), output, output_root)
    check_output_writable(output_dir, topic)
    return RunConfig(
        topic=topic,
        output_dir=output_dir,
        producers=producers,
        iterations=iterations,
        provider=provider,
        request_size=request_size,
        max_restarts=max_restarts,
        sim_latency_ms=sim_latency_ms,
        sim_profile=sim_profile,
        providers=providers,
        record_content=record_content,
        adaptive_weights=adaptive_weights,
        levers=levers,
        max_degraded_s=max_degraded_s,
    )


def validate_levers(levers: LeverConfig) -> LeverConfig:
    _int_in_range("avoid budget", levers.avoid_budget, 0, 100_000)
    _int_in_range("saturation window", levers.saturation_window, 0, 10_000_000)
    if not 0.0 <= levers.saturation < 1.0:
        raise ConfigError("saturation threshold must be at least 0 and below 1")
    if not 0.0 <= levers.target_coverage < 1.0:
        raise ConfigError("target coverage must be at least 0 and below 1 (e.g. 0.95)")
    if not 0.0 <= levers.saturation_patience_s <= 86_400:
        raise ConfigError("saturation patience must be between 0 and 86400 s")
    _int_in_range("saturation patience requests", levers.saturation_patience_requests, 0, 1_000_000)
    if levers.partition_by not in PARTITION_BY:
        raise ConfigError(
            f"unknown partitioning {levers.partition_by!r}; choose one of: "
            + ", ".join(PARTITION_BY)
        )
    if levers.arms:
        from system.levers.strategy.arms import ARMS, arms_for

        unknown = [a for a in levers.arms if a not in ARMS]
        if unknown:
            raise ConfigError(
                f"unknown arm(s) {', '.join(unknown)}; choose from: {', '.join(ARMS)}"
            )
        allowed = arms_for(
            shared_state=levers.shared_state and levers.avoid_budget > 0,
            partitions=levers.partitions,
            opt_in=True,
        )
        off = [a for a in levers.arms if a not in allowed]
        if off:
            raise ConfigError(
                f"arm(s) {', '.join(off)} need a lever that is off (avoid arms need shared "
                "state and an avoid budget, focus arms need partitions)"
            )
        if not levers.adaptive:
            raise ConfigError("--arms needs the adaptive strategy: drop --no-adaptive")
    if levers.partition_by != DEFAULT_PARTITION_BY and not levers.partitions:
        raise ConfigError(
            f"--partition-by {levers.partition_by} needs partitions: drop --no-partitions"
        )
    return levers


def provider_environment(
    config: RunConfig,
    *,
    env_file: str | Path | None = DEFAULT_ENV_FILE,
    environ: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """What every producer's environment needs for ``--provider env`` ({} otherwise):
    the specs (with each producer's share of the rate limits) and the keys that
    exist only in the .env file. Keys travel only this way: never argv or files."""
    if config.provider != "env" or not config.providers:
        return {}
    secrets = secret_env_for(config.providers, env_file=env_file, environ=environ)
    setup = ProviderSetup(list(config.providers), secrets)
    return producer_environment(
        setup,
        config.producers,
        record_content=config.record_content,
        request_size=config.request_size,
    )


@dataclass(frozen=True)
class RunOptions:
    """The orchestrator's own settings for every run, whatever the topic (providers,
    levers): CLI mode applies them to its run, web mode to every run it is asked for."""

    llm: tuple[str, ...] = ()
    env_file: str | Path | None = DEFAULT_ENV_FILE
    record_content: bool = False
    adaptive_weights: bool = False
    levers: LeverConfig = field(default_factory=LeverConfig)
    max_degraded_s: float = DEFAULT_MAX_DEGRADED_S

    def run_config(self, *, topic: str | None, **per_run: Any) -> RunConfig:
        """build_run_config with these options and the run's own (``per_run``)."""
        return build_run_config(
            topic=topic,
            **per_run,
            llm=self.llm,
            env_file=self.env_file,
            record_content=self.record_content,
            adaptive_weights=self.adaptive_weights,
            levers=self.levers,
            max_degraded_s=self.max_degraded_s,
        )
