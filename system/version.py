"""The installed version of the system (``--version``, the ``service.version`` resource)."""

from __future__ import annotations

from importlib import metadata

DISTRIBUTION = "topic-enumerator"


def version() -> str:
    """The distribution's version; ``0+unknown`` when run from a tree that is not installed."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "0+unknown"
