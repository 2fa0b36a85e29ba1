"""The installed version of the tester (``--version``).

The tester ships in the same distribution as the system but never imports it,
so it reads the distribution's metadata itself.
"""

from __future__ import annotations

from importlib import metadata

DISTRIBUTION = "topic-enumerator"


def version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "0+unknown"
