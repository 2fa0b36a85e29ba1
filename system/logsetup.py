"""Logging format shared by the system's processes (stderr, one line per record)."""

from __future__ import annotations

import logging

LEVELS = {
    "trace": logging.DEBUG,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def configure_logging(level: str, role: str) -> None:
    logging.basicConfig(
        level=LEVELS[level],
        format=f"%(asctime)s %(levelname)-7s {role} %(name)s: %(message)s",
        force=True,
    )
    # The OTLP exporter logs a traceback per failed export; one line is enough.
    logging.getLogger("opentelemetry").setLevel(max(LEVELS[level], logging.WARNING))


def announce(logger: logging.Logger, message: str, *args: object) -> None:
    """Log a readiness line ("listening on ...") whatever the log level: starters
    such as the tester and scripts/start.sh wait for it."""
    if logger.isEnabledFor(logging.INFO):
        logger.info(message, *args)
    else:
        logger.warning(message, *args)
