"""What web mode needs from the command line, typed: the CLI builds it, nothing
below the CLI sees argparse."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from system.orchestrator.config import RunOptions

DEFAULT_CONTROL_PORT = 7600


@dataclass(frozen=True)
class WebSettings:
    #: runs write to OUTPUT_ROOT/<topic-slug>/
    output_root: Path = Path("output")
    control_host: str = "127.0.0.1"
    control_port: int = DEFAULT_CONTROL_PORT
    #: the address producers connect to
    host: str = "127.0.0.1"
    #: each producer's log goes to LOG_DIR/producer-<id>.log
    log_dir: Path | None = None
    log_level: str = "info"
    trace_ep: str | None = None
    #: applied to every run started over the control channel
    run_options: RunOptions = field(default_factory=RunOptions)
