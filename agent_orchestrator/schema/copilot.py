"""The copilot by the function names the command line imports (``CopilotCaller``,
``plan_command``, ``prepare_command``): thin over `service.copilot.Copilot`, the use
case every transport calls (``services.copilot``). It goes once the command line calls
the use case itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..core.auth import Principal
from ..core.enums import Role
from ..service.caller import Caller, Transport
from ..service.copilot import CopilotOptions

if TYPE_CHECKING:
    from ..core.protocols import ExecutionRecord
    from ..planner.model import Plan
    from ..service.container import Services
    from ..service.starting import ExecuteRequest

__all__ = [
    "CopilotCaller",
    "CopilotOptions",
    "execute_command",
    "plan_command",
    "prepare_command",
]


@dataclass(frozen=True, slots=True)
class CopilotCaller:
    """Who sends a command (as `service.caller.Caller` says it, flattened).

    Attributes:
        tenant_id: The caller's tenant: the only tenant a plan can touch.
        role: The caller's role.
        actor: Unused: the caller's key (none here) or ``cli`` names the actor.
        via: ``graphql``, ``rest`` or ``cli``.
        ip_address: The client's address, if any.
        request_id: Correlates logs and audit records.
    """

    tenant_id: str
    role: Role
    actor: str | None
    via: str
    ip_address: str | None = None
    request_id: str | None = None

    def caller(self) -> Caller:
        """The caller as the use cases take it."""
        return Caller(
            Principal(self.tenant_id, self.role),
            Transport(self.via),
            self.ip_address,
            self.request_id,
        )


async def plan_command(
    services: Services, command: str, caller: CopilotCaller, options: CopilotOptions
) -> Plan:
    """`Copilot.plan`."""
    return await services.copilot.plan(caller.caller(), command, options)


async def prepare_command(
    services: Services, command: str, caller: CopilotCaller, options: CopilotOptions
) -> tuple[Plan, ExecuteRequest]:
    """`Copilot.prepare`: the plan, and the request ``services.starter`` runs."""
    return await services.copilot.prepare(caller.caller(), command, options)


async def execute_command(
    services: Services,
    command: str,
    caller: CopilotCaller,
    options: CopilotOptions,
    *,
    dry_run: bool = False,
) -> tuple[Plan, ExecutionRecord | None]:
    """`Copilot.execute`."""
    return await services.copilot.execute(
        caller.caller(), command, options, dry_run=dry_run
    )
