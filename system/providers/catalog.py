"""Where the provider set of ``--provider env`` comes from, and how producers get it.

Sources, in order:

* ``--llm name=...,base_url=...,model=...,key_env=...,weight=...`` options
  (repeatable): when any is given, these are the provider set;
* otherwise the well-known providers whose key is set in the environment or
  in the ``.env`` file: ``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``,
  ``GEMINI_API_KEY``, each with optional ``<P>_BASE_URL``, ``<P>_MODEL``,
  ``<P>_WEIGHT``, ``<P>_RPM``, ``<P>_TPM``, ``<P>_TIMEOUT``, ``<P>_DEADLINE`` and the sampling
  settings ``<P>_TEMPERATURE``, ``<P>_TOP_P``, ``<P>_SEED``, ``<P>_MAX_TOKENS``
  (see example.env).

Sampling settings (``temperature`` 0..2, ``top_p`` in (0, 1], ``seed``,
``max_tokens``) are validated here, sent with every request of that provider
and recorded on its ``chat`` spans as ``gen_ai.request.*``; NaN, infinities
and out-of-range values are a start-up error (exit 2).

A key never goes on the command line: ``--llm`` names the variable that holds
it (``key_env``). Producers receive the specs as JSON in ``PROVIDERS_ENV`` and
read the keys from the environment they inherit; keys found only in the
``.env`` file are added to that environment by the orchestrator, never to a
file, an argument or a message.

Rate limits in a spec are for the whole run; the orchestrator gives every
producer an equal share (``rpm / producers``), so N producers together stay
within the budget without coordinating.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from system.providers.spec import ProviderSpec

PROVIDERS_ENV = "TOPIC_ENUMERATOR_PROVIDERS"
DEFAULT_ENV_FILE = ".env"


@dataclass(frozen=True)
class WellKnown:
    prefix: str
    base_url: str
    model: str
    system: str


WELL_KNOWN: dict[str, WellKnown] = {
    "openai": WellKnown("OPENAI", "https://api.openai.com/v1", "gpt-4o-mini", "openai"),
    "anthropic": WellKnown(
        "ANTHROPIC", "https://api.anthropic.com/v1/", "claude-haiku-4-5", "anthropic"
    ),
    "gemini": WellKnown(
        "GEMINI",
        "https://generativelanguage.googleapis.com/v1beta/openai/",
        "gemini-2.5-flash",
        "gcp.gemini",
    ),
}

_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FLOATS = {
    "weight", "rpm", "tpm", "timeout", "timeout_s", "breaker_cooldown", "breaker_cooldown_s",
    "deadline", "deadline_s", "temperature", "top_p",
}  # fmt: skip
_INTS = {"max_tokens", "breaker_failures", "seed"}
#: sampling settings: allowed ranges (inclusive unless noted), checked after parsing
SAMPLING_RANGES: dict[str, tuple[float, float, str]] = {
    "temperature": (0.0, 2.0, "between 0 and 2"),
    "top_p": (0.0, 1.0, "above 0 and at most 1"),  # 0 excluded below
    "seed": (0, 2**63 - 1, "an integer from 0 to 2**63-1"),
    "max_tokens": (1, 1_000_000, "an integer from 1 to 1000000"),
}
#: durations (seconds) a provider may set: beyond these a value is a typo, not a choice
DURATION_RANGES: dict[str, tuple[float, float]] = {
    "timeout_s": (0.1, 3600.0),
    "breaker_cooldown_s": (0.1, 3600.0),
    "deadline_s": (0.1, 7200.0),  # a whole attempt: up to twice the longest timeout
}
_ALIASES = {
    "timeout": "timeout_s", "breaker_cooldown": "breaker_cooldown_s", "deadline": "deadline_s",
    "url": "base_url",
}  # fmt: skip
_LLM_KEYS = {
    "name", "base_url", "url", "model", "key_env", "system", *_FLOATS, *_INTS,
}  # fmt: skip


class CatalogError(ValueError):
    """The provider configuration is unusable; the message is shown as is."""


@dataclass
class ProviderSetup:
    specs: list[ProviderSpec]
    #: key variables found only in the .env file: added to the producers' environment
    secret_env: dict[str, str] = field(default_factory=dict, repr=False)


def _number(key: str, value: str, where: str) -> float | int:
    try:
        number: float | int = int(value) if key in _INTS else float(value)
    except ValueError:
        kind = "an integer" if key in _INTS else "a number"
        raise CatalogError(f"{where}: {key} must be {kind} (got {value!r})") from None
    if not math.isfinite(number):
        raise CatalogError(f"{where}: {key} must be a finite number (got {value!r})")
    if key in SAMPLING_RANGES:
        low, high, says = SAMPLING_RANGES[key]
        if not low <= number <= high or (key == "top_p" and number <= 0):
            raise CatalogError(f"{where}: {key} must be {says} (got {value})")
        return number
    if number <= 0 and key != "weight":
        raise CatalogError(f"{where}: {key} must be positive (got {value})")
    if key in DURATION_RANGES:
        low, high = DURATION_RANGES[key]
        if not low <= number <= high:
            name = key.removesuffix("_s")
            raise CatalogError(f"{where}: {name} must be {low:g} to {high:g} seconds (got {value})")
    if number < 0:
        raise CatalogError(f"{where}: {key} must not be negative (got {value})")
    return number


def check_base_url(url: str, where: str) -> None:
    """An http(s) URL with a host and, when given, a port from 1 to 65535."""
    if not url.startswith(("http://", "https://")):
        raise CatalogError(f"{where}: base_url must start with http:// or https://")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # an unclosed [IPv6 bracket, a port out of range or not a number
        raise CatalogError(f"{where}: base_url {url!r} is not a valid URL ({exc})") from None
    if not parts.hostname:
        raise CatalogError(f"{where}: base_url {url!r} has no host (e.g. http://127.0.0.1:8000/v1)")
    if port == 0:
        raise CatalogError(f"{where}: base_url {url!r}: the port must be from 1 to 65535")


def parse_llm_option(text: str) -> ProviderSpec:
    """One ``--llm`` value: comma-separated ``key=value`` pairs."""
    where = f"--llm {text.split(',', 1)[0]}"
    values: dict[str, Any] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        key, sep, value = part.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not sep:
            raise CatalogError(f"{where}: expected key=value, got {part!r}")
        if key in ("key", "api_key"):
            raise CatalogError(
                f"{where}: API keys are not accepted on the command line; put the key in an "
                "environment variable (or .env) and name it with key_env=VARIABLE"
            )
        if key not in _LLM_KEYS:
            raise CatalogError(f"{where}: unknown field {key!r}; fields: {sorted(_LLM_KEYS)}")
        given, key = key, _ALIASES.get(key, key)
        if key in values:
            raise CatalogError(f"{where}: {given} is given twice")
        values[key] = _number(key, value, where) if key in _FLOATS | _INTS else value
    for required in ("name", "base_url", "model"):
        if not values.get(required):
            raise CatalogError(f"{where}: {required}= is required")
    if not _NAME.match(values["name"]):
        raise CatalogError(f"{where}: name must be 1-40 letters, digits, '.', '_' or '-'")
    check_base_url(values["base_url"], where)
    key_env = values.get("key_env")
    if key_env in ("", "-", "none"):
        values["key_env"] = None
    elif key_env is not None and not _ENV_NAME.match(key_env):
        raise CatalogError(f"{where}: key_env must be an environment variable name")
    return ProviderSpec(**values)


def load_env_file(path: str | Path | None) -> dict[str, str]:
    """The ``KEY=value`` pairs of a .env file ({} when there is none); never sets os.environ."""
    if path is None:
        return {}
    path = Path(path)
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    try:
        values = dotenv_values(path)
    except UnicodeDecodeError:
        raise CatalogError(f"--env-file {path} is not UTF-8 text; save it as UTF-8") from None
    except OSError as exc:
        raise CatalogError(f"cannot read --env-file {path}: {exc.strerror or exc}") from None
    return {k: v for k, v in values.items() if v is not None}


def _well_known(values: Mapping[str, str]) -> list[ProviderSpec]:
    specs = []
    for name, known in WELL_KNOWN.items():
        p = known.prefix
        if not values.get(f"{p}_API_KEY"):
            continue
        where = f"{p}_* settings"
        extra: dict[str, Any] = {}
        for suffix, key in (("WEIGHT", "weight"), ("RPM", "rpm"), ("TPM", "tpm"),
                            ("TIMEOUT", "timeout_s"), ("DEADLINE", "deadline_s"),
                            ("TEMPERATURE", "temperature"),
                            ("TOP_P", "top_p"), ("SEED", "seed"),
                            ("MAX_TOKENS", "max_tokens")):  # fmt: skip
            if values.get(f"{p}_{suffix}"):
                extra[key] = _number(key, values[f"{p}_{suffix}"], where)
        base_url = values.get(f"{p}_BASE_URL") or known.base_url
        check_base_url(base_url, f"{p}_BASE_URL")
        specs.append(
            ProviderSpec(
                name=name,
                base_url=base_url,
                model=values.get(f"{p}_MODEL") or known.model,
                key_env=f"{p}_API_KEY",
                system=known.system,
                **extra,
            )
        )
    return specs


def resolve_providers(
    llm: Sequence[str],
    *,
    environ: Mapping[str, str] | None = None,
    env_file: str | Path | None = DEFAULT_ENV_FILE,
) -> ProviderSetup:
    """The provider set of ``--provider env``; CatalogError when there is none usable."""
    environ = os.environ if environ is None else environ
    from_file = load_env_file(env_file)
    values = {**from_file, **environ}  # the real environment wins over .env
    specs = [parse_llm_option(text) for text in llm] if llm else _well_known(values)
    if not specs:
        raise CatalogError(
            "no LLM provider configured: set OPENAI_API_KEY, ANTHROPIC_API_KEY or "
            f"GEMINI_API_KEY (in the environment or {env_file or '.env'}; see example.env), "
            "or describe endpoints with --llm name=...,base_url=...,model=...,key_env=..."
        )
    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        raise CatalogError(f"provider names must be unique (got {', '.join(names)})")
    if not any(spec.weight > 0 for spec in specs):
        raise CatalogError("at least one provider needs a weight above 0")
    missing = [s for s in specs if s.key_env and not values.get(s.key_env)]
    if missing:
        raise CatalogError(
            "no API key for provider(s) "
            + ", ".join(f"{s.name} (set {s.key_env})" for s in missing)
        )
    return ProviderSetup(specs, _from_file_only(specs, from_file, environ))


def _from_file_only(
    specs: Sequence[ProviderSpec], from_file: Mapping[str, str], environ: Mapping[str, str]
) -> dict[str, str]:
    return {
        s.key_env: from_file[s.key_env]
        for s in specs
        if s.key_env and not environ.get(s.key_env) and from_file.get(s.key_env)
    }


def secret_env_for(
    specs: Sequence[ProviderSpec],
    *,
    env_file: str | Path | None = DEFAULT_ENV_FILE,
    environ: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The key variables of these specs that only the .env file holds."""
    environ = os.environ if environ is None else environ
    return _from_file_only(specs, load_env_file(env_file), environ)


def share_limits(specs: Sequence[ProviderSpec], producers: int) -> list[ProviderSpec]:
    """Each producer's equal share of every run-wide rpm/tpm budget."""
    n = max(1, producers)
    return [
        replace(
            s,
            rpm=None if s.rpm is None else s.rpm / n,
            tpm=None if s.tpm is None else s.tpm / n,
        )
        for s in specs
    ]


#: answer tokens allowed per requested item when a provider sets no max_tokens, and a margin
MAX_TOKENS_PER_ITEM, MAX_TOKENS_MARGIN = 16, 64


def default_max_tokens(request_size: int) -> int:
    """The answer cap for a provider without ``max_tokens``: room for the items asked for.

    A small model sometimes never stops (it repeats its list until the context is
    full: minutes of generation and thousands of tokens for one answer, while the
    client has long timed out and the server keeps generating); a cap bounds it.
    """
    return MAX_TOKENS_MARGIN + MAX_TOKENS_PER_ITEM * max(1, request_size)


def with_default_max_tokens(specs: Sequence[ProviderSpec], request_size: int) -> list[ProviderSpec]:
    return [
        s if s.max_tokens else replace(s, max_tokens=default_max_tokens(request_size))
        for s in specs
    ]


def producer_environment(
    setup: ProviderSetup,
    producers: int,
    *,
    record_content: bool = False,
    request_size: int | None = None,
) -> dict[str, str]:
    """Variables to add to every producer's environment (keys from .env included).

    With ``request_size``, a spec without ``max_tokens`` gets ``default_max_tokens``.
    """
    specs = share_limits(setup.specs, producers)
    if request_size is not None:
        specs = with_default_max_tokens(specs, request_size)
    payload = {
        "providers": [s.to_dict() for s in specs],
        "record_content": record_content,
    }
    return {PROVIDERS_ENV: json.dumps(payload), **setup.secret_env}


def read_producer_config(environ: Mapping[str, str]) -> tuple[list[ProviderSpec], bool]:
    """What ``producer_environment`` wrote: (specs, record_content)."""
    raw = environ.get(PROVIDERS_ENV)
    if not raw:
        raise CatalogError(f"{PROVIDERS_ENV} is not set: the orchestrator configures providers")
    try:
        payload = json.loads(raw)
        specs = [ProviderSpec.from_dict(d) for d in payload["providers"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise CatalogError(f"{PROVIDERS_ENV} is not valid: {exc}") from exc
    return specs, bool(payload.get("record_content", False))
