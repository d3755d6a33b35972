"""API keys: create (the plaintext returned once), revoke, list, and the checks that
turn a presented key into a principal."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import anyio

from ..core.errors import NotFound
from ..core.ids import utcnow
from ..security.api_keys import DEFAULT_EXPIRY_DAYS, INVALID_KEY
from ..security.permissions import Permission

if TYPE_CHECKING:
    import datetime as dt

    from anyio.abc import TaskStatus

    from ..core.auth import ApiKeyRecord, Principal
    from ..core.enums import Role
    from ..security.api_keys import ApiKeyService
    from ..security.sockets import KeySockets
    from .access import Access
    from .caller import Caller
    from .stores import ApiKeyRecords

log = logging.getLogger("agent_orchestrator.security")


class ApiKeys:
    """The API key use cases (admins of a tenant, or the CLI).

    Args:
        access: Rights and the audit trail.
        keys: Issues keys and authenticates presented ones (with a short cache).
        records: The stored keys.
    """

    def __init__(
        self, access: Access, keys: ApiKeyService, records: ApiKeyRecords
    ) -> None:
        self.access = access
        self.keys = keys
        self.records = records

    async def create(
        self,
        caller: Caller,
        *,
        name: str,
        role: Role,
        tenant_id: str | None = None,
        expires_at: dt.datetime | None = None,
        expires_in_days: int | None = None,
    ) -> tuple[ApiKeyRecord, str]:
        """Make a key in the caller's tenant; ``api_key.create`` is written with it.

        Args:
            caller: Who asks (an admin; the CLI acts as an admin of its tenant).
            name: A name to tell the key apart.
            role: What the key may do.
            tenant_id: The caller's own tenant, or None; naming another one is
                refused as if it did not exist (no existence oracle).
            expires_at: When it expires; default `expires_in_days` from now.
            expires_in_days: Days until it expires (default 90).

        Returns:
            The stored record and the plaintext key, which is never shown again.

        Raises:
            Forbidden: The caller may not manage keys.
            NotFound: `tenant_id` names another tenant.
            ValidationFailed: Empty name, bad tenant id or an expiry outside 1..366
                days.
        """
        action = "api_key.create"
        await self.access.require(
            caller, Permission.MANAGE_KEYS, action, resource_type="api_key"
        )
        if tenant_id is not None and tenant_id != caller.tenant_id:
            await self.access.refused(
                caller,
                action,
                error := NotFound(f"tenant '{tenant_id}' not found"),
                resource_type="api_key",
                details={"tenant_id": tenant_id},
            )
            raise error
        if expires_at is None and expires_in_days is None:
            expires_in_days = DEFAULT_EXPIRY_DAYS
        async with self.access.attempt(caller, action, "api_key"):
            return await self.keys.create(
                name=name,
                role=role,
                tenant_id=caller.tenant_id,
                expires_at=expires_at,
                expires_in_days=expires_in_days,
                created_by=caller.actor,
                audit=self.access.entry(
                    caller,
                    action,
                    resource_type="api_key",
                    details={"name": name, "role": role.value},
                ),
            )

    async def revoke(self, caller: Caller, key_id: str) -> ApiKeyRecord:
        """Revoke a key of the caller's tenant at once (in this process; other
        processes stop accepting it within their short cache time);
        ``api_key.revoke`` is written in the same transaction.

        Raises:
            Forbidden: The caller may not manage keys.
            NotFound: The tenant has no such key.
        """
        action = "api_key.revoke"
        async with self.access.guarded(
            caller, Permission.MANAGE_KEYS, action, "api_key", key_id
        ):
            record = await self.records.revoke(
                key_id,
                caller.tenant_id,
                audit=self.access.entry(
                    caller, action, resource_type="api_key", resource_id=key_id
                ),
            )
        self.keys.revoked(record.id)
        return record

    async def tenant_of(self, key_id: str) -> str:
        """The tenant a key belongs to, for the command line, which acts with the
        database's own rights (``revoke-api-key ID`` names no tenant): revoke with
        ``Caller.cli(await keys.tenant_of(key_id))``. Never for API callers: it
        would tell them about other tenants' keys.

        Raises:
            NotFound: No such key.
        """
        return (await self.records.get(key_id)).tenant_id

    async def list(self, caller: Caller) -> list[ApiKeyRecord]:
        """The tenant's keys, newest first (never the keys themselves)."""
        await self.access.require(
            caller, Permission.MANAGE_KEYS, "api_key.list", resource_type="api_key"
        )
        return await self.records.list(caller.tenant_id)

    async def authenticate(self, key: str | None) -> Principal:
        """The principal a presented key stands for.

        Raises:
            Unauthenticated: No key, or a malformed, unknown, revoked or expired one.
        """
        return await self.keys.authenticate(key)

    def ensure_current(self, principal: Principal) -> None:
        """Before each operation of a long-lived connection: refuse a key that expired
        since it authenticated or that this process knows was revoked (no database
        query).

        Raises:
            Unauthenticated: The key may no longer be used.
        """
        self.keys.ensure_current(principal)

    async def watch_sockets(
        self,
        sockets: KeySockets,
        recheck_s: float,
        *,
        task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        """Close the open sockets of keys that die, until cancelled: at once for a
        revocation made in this process, and within `recheck_s` for one made
        elsewhere (another server, the CLI) or a key that expired.

        Runs in the task group that owns the process's long-lived tasks.
        """
        self.keys.on_revoke.append(sockets.key_died)
        task_status.started()
        try:
            due = anyio.current_time() + recheck_s
            while True:
                wait_s = due - anyio.current_time()
                expiry = sockets.next_expiry()
                if expiry is not None:
                    wait_s = min(wait_s, (expiry - utcnow()).total_seconds())
                await sockets.wait(max(wait_s, 0.0))
                if anyio.current_time() >= due:
                    due = anyio.current_time() + recheck_s
                    await self._recheck(sockets)
                for key_id in sockets.expired(utcnow()):
                    sockets.key_died(key_id)
                await sockets.close_dead(INVALID_KEY)
        finally:
            self.keys.on_revoke.remove(sockets.key_died)

    async def _recheck(self, sockets: KeySockets) -> None:
        """Read the keys of the open sockets once: those revoked elsewhere die."""
        key_ids = sockets.key_ids()
        if not key_ids:
            return
        try:
            usable = await self.records.usable_ids(key_ids)
        except Exception:
            # The database is away: keep the sockets; the next recheck decides.
            log.warning("could not recheck the keys of open sockets", exc_info=True)
            return
        for key_id in key_ids:
            if key_id not in usable:
                self.keys.revoked(key_id)

    async def still_usable(self, principal: Principal) -> bool:
        """Whether the key a long-lived connection authenticated with is still
        neither revoked nor expired (True for callers without a key)."""
        if principal.key_id is None:
            return True
        try:
            record = await self.records.get(principal.key_id)
        except NotFound:
            return False
        return record.is_usable(utcnow())
