"""OpenTelemetry set-up shared by every process of the system."""

from system.telemetry.propagation import context_from, current_context_carrier
from system.telemetry.setup import Telemetry, TracingConfigError, configure_tracing

__all__ = [
    "Telemetry",
    "TracingConfigError",
    "configure_tracing",
    "context_from",
    "current_context_carrier",
]
