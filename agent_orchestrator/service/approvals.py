"""Approvals: list them, decide them (GraphQL, REST and the CLI share this), expire
them and tell the approvers (DESIGN.md "Engine semantics", Approval).

A decision is stored once (`store.approvals`); approving continues the execution from
the approval step (this process's runner takes it at once), rejecting or expiry fails
the step without retry. The key that started the execution may not decide it (four
eyes), the decider's role must be at least the step's ``approver_role``, and another
tenant's approval is NOT_FOUND.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

import anyio

from ..core.approvals import ApprovalRecord, ApprovalStatus, Decision
from ..core.errors import Conflict, Forbidden, Problem, ValidationFailed
from ..core.ids import utcnow
from ..core.records import AuditEntry
from ..security.permissions import Permission
from .approval_mail import approval_message
from .switch import ensure_enabled

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Sequence

    from anyio.abc import TaskStatus

    from ..agents.smtp import SmtpServer
    from ..engine.runner import Runner
    from .access import Access
    from .caller import Caller

log = logging.getLogger("agent_orchestrator.approvals")
RESOURCE = "approval"
MAX_COMMENT = 2_000


class ApprovalRepository(Protocol):
    """Where approval requests and decisions are kept (`store.approvals`)."""

    async def find(
        self,
        tenant_id: str,
        *,
        status: ApprovalStatus | None = None,
        execution_id: str | None = None,
        limit: int = 100,
    ) -> list[ApprovalRecord]:
        """A tenant's approvals, newest first."""
        ...

    async def decide(
        self,
        tenant_id: str,
        execution_id: str,
        step_id: str,
        decision: Decision,
        *,
        check: Callable[[ApprovalRecord], None] | None = None,
        audit: AuditEntry | None = None,
        now: dt.datetime | None = None,
    ) -> tuple[ApprovalRecord, bool]:
        """Store a decision once; whether the execution went back to PENDING."""
        ...

    async def due(self, now: dt.datetime, limit: int = 100) -> list[ApprovalRecord]:
        """Waiting approvals whose time ran out."""
        ...

    async def reopen_decided(self) -> list[str]:
        """Parked executions with a decided step back to PENDING."""
        ...

    async def take_unannounced(self, limit: int = 20) -> list[ApprovalRecord]:
        """Waiting approvals nobody was told of, marked as told."""
        ...


class Approvals:
    """The approval use cases.

    Args:
        access: Rights and the audit trail.
        store: The approvals.
        runner: This process's runner: it continues an approved execution at once.
        enabled: ``AGENT_ORCHESTRATOR_ENABLED``.
        mail: The SMTP server, None when e-mail is not configured.
        recipients: ``AGENT_APPROVAL_RECIPIENTS``: told of every approval.
    """

    def __init__(
        self,
        access: Access,
        store: ApprovalRepository,
        runner: Runner | None,
        *,
        enabled: bool = True,
        mail: SmtpServer | None = None,
        recipients: Sequence[str] = (),
    ) -> None:
        self.access = access
        self.store = store
        self.runner = runner
        self.enabled = enabled
        self.mail = mail
        self.recipients = tuple(recipients)

    async def find(
        self,
        caller: Caller,
        *,
        status: ApprovalStatus | None = None,
        execution_id: str | None = None,
        first: int = 100,
    ) -> list[ApprovalRecord]:
        """The caller's tenant's approvals, newest first (expired ones are expired
        first, so that PENDING means still decidable)."""
        await self.access.require(
            caller, Permission.READ, "approval.list", resource_type=RESOURCE
        )
        if not 1 <= first <= 100:
            raise ValidationFailed([Problem("first", "must be 1 to 100")])
        await self.expire_due()
        return await self.store.find(
            caller.tenant_id, status=status, execution_id=execution_id, limit=first
        )

    async def decide(
        self,
        caller: Caller,
        execution_id: str,
        step_id: str,
        *,
        approve: bool,
        comment: str | None = None,
        continue_here: bool = True,
    ) -> ApprovalRecord:
        """Approve or reject a waiting approval (``approval.decide``, audited).

        With `continue_here`, this process's runner takes the decided execution at
        once (a short-lived process, the CLI, leaves it to servers and workers).

        Raises:
            Forbidden: The caller started the execution (four eyes), or its role is
                below the approval's ``approver_role``.
            NotFound: The tenant has no such approval.
            Conflict: It was decided already, expired, or its execution ended.
            ValidationFailed: The comment is too long.
            ServiceDisabled: The service is switched off.
        """
        action = "approval.decide"
        resource_id = f"{execution_id}/{step_id}"
        await self.access.require(
            caller,
            Permission.READ,
            action,
            resource_type=RESOURCE,
            resource_id=resource_id,
        )
        ensure_enabled(self.enabled)
        async with self.access.attempt(caller, action, RESOURCE, resource_id):
            comment = (comment or "").strip() or None
            if comment is not None and len(comment) > MAX_COMMENT:
                raise ValidationFailed(
                    [Problem("comment", f"at most {MAX_COMMENT} characters")]
                )
            await self.expire_due()
            role = self.access.role(caller)

            def check(record: ApprovalRecord) -> None:
                requested_by = record.request.requested_by
                if requested_by is not None and requested_by == caller.actor:
                    raise Forbidden(
                        f"four eyes: the key that started execution {execution_id} "
                        "cannot decide its approval; ask another person with role "
                        f"{record.request.approver_role.value} or higher to decide"
                    )
                needed = record.request.approver_role
                if not role.includes(needed):
                    raise Forbidden(
                        f"this approval needs role {needed.value} or higher; your key "
                        f"has {role.value}"
                    )

            decision = Decision(
                approved=approve,
                decided_by=caller.actor,
                comment=comment,
                decided_by_name=caller.principal.key_name,
            )
            record, reopened = await self.store.decide(
                caller.tenant_id,
                execution_id,
                step_id,
                decision,
                check=check,
                audit=self.access.entry(
                    caller,
                    action,
                    resource_type=RESOURCE,
                    resource_id=resource_id,
                    details={"approved": approve, "comment": comment},
                ),
            )
        if reopened and continue_here:
            await self._continue(execution_id)
        return record

    async def expire_due(self, now: dt.datetime | None = None) -> int:
        """Expire every waiting approval whose time ran out at `now` (default: now):
        each fails its step (``approval.expire`` is written). Returns how many."""
        now = now or utcnow()
        expired = 0
        for record in await self.store.due(now):
            request = record.request
            try:
                _, reopened = await self.store.decide(
                    request.tenant_id,
                    request.execution_id,
                    request.step_id,
                    Decision(approved=False, decided_by=None, expired=True),
                    audit=self._entry(record, "approval.expire"),
                    now=now,
                )
            except Conflict:
                continue  # decided meanwhile
            expired += 1
            if reopened:
                await self._continue(request.execution_id)
        return expired

    async def announce(self) -> int:
        """E-mail the approvers of approvals nobody was told of yet (once each).
        Returns how many messages were sent."""
        from ..agents.smtp import send_message

        sent = 0
        for record in await self.store.take_unannounced():
            to = list(dict.fromkeys([*record.request.notify, *self.recipients]))
            if self.mail is None or not to:
                continue
            message = approval_message(record, self.mail.sender, to)
            try:
                await send_message(self.mail, message, to)
            except Exception:
                log.exception(
                    "could not e-mail the approvers of execution %s step %s",
                    record.request.execution_id,
                    record.request.step_id,
                )
                continue
            await self.access.record(
                self._entry(record, "approval.announce", {"recipients": to})
            )
            sent += 1
        return sent

    async def watch(
        self,
        interval_s: float,
        *,
        task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        """Until cancelled: expire approvals whose time ran out, continue decided
        executions no runner took, and tell approvers of new requests."""
        task_status.started()
        while True:
            try:
                await self.expire_due()
                for execution_id in await self.store.reopen_decided():
                    await self._continue(execution_id)
                await self.announce()
            except Exception:
                log.warning("approval upkeep failed; trying again", exc_info=True)
            await anyio.sleep(interval_s)

    async def _continue(self, execution_id: str) -> None:
        if self.runner is not None and self.enabled:
            await self.runner.take(execution_id)

    def _entry(
        self,
        record: ApprovalRecord,
        action: str,
        details: dict[str, object] | None = None,
    ) -> AuditEntry | None:
        if not self.access.audit_enabled:
            return None
        request = record.request
        return AuditEntry(
            tenant_id=request.tenant_id,
            action=action,
            resource_type=RESOURCE,
            resource_id=f"{request.execution_id}/{request.step_id}",
            details={"title": request.title, **(details or {})},
        )
