"""Starting, watching and stopping the system's processes."""

from tester.constellation.constellation import (
    OrchestratorConfig,
    ServiceConstellation,
    StartupError,
)
from tester.constellation.process import ManagedProcess
from tester.constellation.web import WebMode

__all__ = [
    "ManagedProcess",
    "OrchestratorConfig",
    "ServiceConstellation",
    "StartupError",
    "WebMode",
]
