"""Secret truth: no configured secret in any span, log or output file of a run.

Scans every attribute, event and resource value of every span, and every
file under the given folders (logs, output, the ledger dumps), for each
secret verbatim. A secret shorter than 8 characters is refused: it would
match by chance.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tester.collector import Span

SKIP_SUFFIXES = (".gguf", ".token")


def _span_texts(span: Span) -> Iterable[tuple[str, str]]:
    for k, v in span.attributes.items():
        yield f"attribute {k}", str(v)
    for k, v in span.resource.items():
        yield f"resource {k}", str(v)
    for event in span.events:
        for k, v in event.attributes.items():
            yield f"event {event.name} {k}", str(v)
    yield "status message", span.status_message
    yield "name", span.name


def assert_no_secrets(
    secrets: Iterable[str],
    spans: Iterable[Span],
    folders: Iterable[Path],
    *,
    skip: Iterable[Path] = (),
) -> int:
    """Raise AssertionError naming where a secret leaked; return how many places were read."""
    wanted = [s for s in secrets if s]
    for secret in wanted:
        if len(secret) < 8:
            raise ValueError("a secret to scan for must have at least 8 characters")
    skipped = {Path(p).resolve() for p in skip}
    read = 0
    for span in spans:
        for where, text in _span_texts(span):
            read += 1
            for secret in wanted:
                if secret in text:
                    raise AssertionError(
                        f"secret {secret[:3]}... found in span {span.name} "
                        f"[{span.service_name}] {where}"
                    )
    for folder in folders:
        if not Path(folder).exists():
            continue
        for path in sorted(Path(folder).rglob("*")):
            if not path.is_file() or path.suffix in SKIP_SUFFIXES or path.resolve() in skipped:
                continue
            read += 1
            data = path.read_bytes()
            for secret in wanted:
                if secret.encode() in data:
                    raise AssertionError(f"secret {secret[:3]}... found in file {path}")
    return read
