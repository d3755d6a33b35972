"""The master switch, ``AGENT_ORCHESTRATOR_ENABLED``.

Switched off, a process keeps its database and answers ``/health`` (with
``"status": "disabled"``), but runs no workflow (its runner neither starts nor claims
executions), plans no command, and answers every other request with HTTP 503 and
`DISABLED_MESSAGE`; the CLI's ``execute-workflow`` and ``copilot`` refuse with the same
message.
"""

from __future__ import annotations

from ..core.errors import ServiceDisabled

#: What callers of a switched-off service are told (API, CLI).
DISABLED_MESSAGE = (
    "Agent Orchestrator is switched off (AGENT_ORCHESTRATOR_ENABLED=false): no "
    "workflow runs and the API answers only /health. Set "
    "AGENT_ORCHESTRATOR_ENABLED=true and restart to switch it on."
)
#: The error code of that answer (GraphQL `extensions.code`, REST `error.code`).
DISABLED_CODE = "SERVICE_DISABLED"


def ensure_enabled(enabled: bool) -> None:
    """Refuse work while the service is switched off.

    Raises:
        ServiceDisabled: With `DISABLED_MESSAGE`.
    """
    if not enabled:
        raise ServiceDisabled(DISABLED_MESSAGE)
