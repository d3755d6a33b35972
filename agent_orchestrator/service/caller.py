"""Who calls a use case, and over which transport."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ..core.auth import Principal
from ..core.enums import Role
from ..core.ids import DEFAULT_TENANT


class Transport(enum.StrEnum):
    """The way a request reached the service (kept in audit entries)."""

    GRAPHQL = "graphql"
    REST = "rest"
    CLI = "cli"


@dataclass(frozen=True, slots=True)
class Caller:
    """The caller of a use case: rights, tenant and the trail its audit entries keep.

    Attributes:
        principal: The tenant, role and API key the request acts as.
        via: The transport it came by.
        ip_address: The client's address as the server saw it (None on the CLI).
        request_id: Correlates logs and audit records.
    """

    principal: Principal
    via: Transport
    ip_address: str | None = None
    request_id: str | None = None

    @classmethod
    def cli(cls, tenant_id: str = DEFAULT_TENANT) -> Caller:
        """The command line: an admin of `tenant_id` without a key (whoever may run
        the CLI may read the database it names)."""
        return cls(Principal(tenant_id, Role.ADMIN), Transport.CLI)

    @property
    def tenant_id(self) -> str:
        """The only tenant whose data the caller may touch."""
        return self.principal.tenant_id

    @property
    def actor(self) -> str | None:
        """Who did it, for audit entries and ``created_by``: the API key's id, or
        ``cli`` for the command line (None when API keys are switched off)."""
        if self.principal.key_id is not None:
            return self.principal.key_id
        return Transport.CLI.value if self.via is Transport.CLI else None
