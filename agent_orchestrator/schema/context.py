"""The per-request (or per-WebSocket) context resolvers receive."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.websockets import WebSocket
from strawberry.types import Info as StrawberryInfo

from ..core.auth import Principal
from ..core.errors import Unauthenticated
from ..core.records import AuditEntry
from .loaders import Loaders
from .services import Services


@dataclass
class Context:
    """What one GraphQL operation (or one WebSocket connection) knows.

    Attributes:
        request: The HTTP request or the WebSocket.
        services: The process's long-lived parts.
        request_id: Correlates logs and audit records.
        connection_params: The WebSocket `connection_init` payload.
    """

    request: Request | WebSocket
    response: Any
    services: Services
    request_id: str
    principal_: Principal | None = None
    connection_params: dict[str, Any] | None = field(default=None)
    _loaders: Loaders | None = field(default=None, repr=False)

    @property
    def loaders(self) -> Loaders:
        """This request's DataLoaders (made on first use)."""
        if self._loaders is None:
            self._loaders = Loaders(self.services.executions, lambda: self.tenant_id)
        return self._loaders

    @property
    def principal(self) -> Principal:
        """Who is calling.

        Raises:
            Unauthenticated: No key was accepted for this request.
        """
        if self.principal_ is None:
            raise Unauthenticated("missing API key; send it in the X-API-Key header")
        return self.principal_

    @property
    def tenant_id(self) -> str:
        """The caller's tenant; every query is scoped to it."""
        return self.principal.tenant_id

    @property
    def ip_address(self) -> str | None:
        """The client's address as the server saw it."""
        client = self.request.client
        return client.host if client else None

    def audit(
        self,
        action: str,
        *,
        resource_type: str | None = None,
        resource_id: str | None = None,
        details: dict[str, Any] | None = None,
        result: str = "success",
    ) -> AuditEntry | None:
        """An audit entry for this caller (None when ``AGENT_AUDIT_ENABLED`` is off)."""
        if not self.services.settings.agent_audit_enabled:
            return None
        principal = self.principal
        return AuditEntry(
            tenant_id=principal.tenant_id,
            action=action,
            user_id=principal.key_id,
            resource_type=resource_type,
            resource_id=resource_id,
            details=details or {},
            ip_address=self.ip_address,
            result=result,
            request_id=self.request_id,
        )


Info = StrawberryInfo[Context, None]
