"""`RunStore` in memory: for the benchmark's ``--persist none`` and for engine tests on
event loops the SQL drivers do not support (trio). Same contract, no durability."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from collections import Counter
from typing import TYPE_CHECKING, Any

from ..core.enums import ExecutionStatus, StepStatus
from ..core.errors import Conflict, NotFound
from ..core.ids import utcnow
from ..core.protocols import (
    ExecutionEvent,
    ExecutionRecord,
    NewExecution,
    StepRecord,
    WriteBatch,
)

if TYPE_CHECKING:
    from collections.abc import Sequence


def _copy(value: Any) -> Any:
    # Stored JSON must not change when the caller's dict does; scalars need no copy.
    return copy.deepcopy(value) if isinstance(value, dict | list) else value


@dataclasses.dataclass
class _Lease:
    owner: str | None = None
    expires: dt.datetime | None = None


class MemoryRunStore:
    """Executions, steps and events in dicts (implements `core.protocols.RunStore`)."""

    def __init__(self) -> None:
        self._executions: dict[str, ExecutionRecord] = {}
        self._steps: dict[str, dict[str, StepRecord]] = {}
        self._events: dict[str, list[ExecutionEvent]] = {}
        self._leases: dict[str, _Lease] = {}
        self._keys: dict[tuple[str, str], str] = {}

    async def create_execution(
        self,
        new: NewExecution,
        *,
        lease_owner: str | None = None,
        lease_s: float | None = None,
        audit: object = None,
    ) -> tuple[ExecutionRecord, bool]:
        """See `RunStore.create_execution`."""
        if new.idempotency_key is not None:
            existing_id = self._keys.get((new.tenant_id, new.idempotency_key))
            if existing_id is not None:
                existing = self._executions[existing_id]
                if existing.request_hash != new.request_hash:
                    raise Conflict(
                        f"idempotency key {new.idempotency_key!r} was already used "
                        "for a different request"
                    )
                return await self.load_execution(existing_id), False
            self._keys[(new.tenant_id, new.idempotency_key)] = new.id
        now = utcnow()
        self._executions[new.id] = ExecutionRecord(
            id=new.id,
            tenant_id=new.tenant_id,
            status=ExecutionStatus.PENDING,
            graph=copy.deepcopy(dict(new.graph)),
            variables=copy.deepcopy(dict(new.variables)),
            created_at=now,
            template_id=new.template_id,
            workflow_id=new.workflow_id,
            workflow_version=new.workflow_version,
            idempotency_key=new.idempotency_key,
            request_hash=new.request_hash,
            created_by=new.created_by,
            role=new.role,
            metadata=dict(new.metadata),
        )
        self._steps[new.id] = {
            step_id: StepRecord(step_id, agent_id, StepStatus.PENDING)
            for step_id, agent_id in new.steps
        }
        self._events[new.id] = []
        expires = (
            now + dt.timedelta(seconds=lease_s) if lease_owner and lease_s else None
        )
        self._leases[new.id] = _Lease(lease_owner, expires)
        return await self.load_execution(new.id), True

    async def load_execution(
        self, execution_id: str, tenant_id: str | None = None, *, with_seq: bool = True
    ) -> ExecutionRecord:
        """See `RunStore.load_execution`."""
        record = self._executions.get(execution_id)
        if record is None or (tenant_id is not None and record.tenant_id != tenant_id):
            raise NotFound(f"execution {execution_id} not found")
        events = self._events[execution_id]
        return dataclasses.replace(
            record,
            steps=tuple(self._steps[execution_id].values()),
            last_seq=events[-1].seq if events else 0,
        )

    async def write(self, batch: WriteBatch) -> None:
        """See `RunStore.write`; checks everything before changing anything."""
        last_seq: dict[str, int] = {}
        for event in batch.events:
            stored = self._events.get(event.execution_id)
            if stored is None:
                raise NotFound(f"execution {event.execution_id} not found")
            expected = last_seq.get(event.execution_id, stored[-1].seq if stored else 0)
            if event.seq != expected + 1:
                raise Conflict(
                    f"event seq {event.seq} of {event.execution_id} is not "
                    f"{expected + 1}"
                )
            last_seq[event.execution_id] = event.seq
        for new in batch.new_steps:
            self._steps[new.execution_id].setdefault(
                new.step_id, StepRecord(new.step_id, new.agent_id, StepStatus.PENDING)
            )
        for step in batch.steps:
            current = self._steps[step.execution_id][step.step_id]
            values = {k: _copy(v) for k, v in step.values.items()}
            if "status" in values:
                values["status"] = StepStatus(values["status"])
            self._steps[step.execution_id][step.step_id] = dataclasses.replace(
                current, **values
            )
        for execution in batch.executions:
            values = {k: _copy(v) for k, v in execution.values.items()}
            if "status" in values:
                values["status"] = ExecutionStatus(values["status"])
                if not values["status"].is_leased:
                    self._leases[execution.execution_id] = _Lease()
            self._executions[execution.execution_id] = dataclasses.replace(
                self._executions[execution.execution_id], **values
            )
        for event in batch.events:
            self._events[event.execution_id].append(event)

    async def claim(
        self,
        owner: str,
        lease_s: float,
        *,
        execution_ids: Sequence[str] | None = None,
        limit: int = 100,
        tenant_cap: int | None = None,
        dead_owners: Sequence[str] = (),
    ) -> list[str]:
        """See `RunStore.claim`."""
        now = utcnow()

        def free(execution_id: str) -> bool:
            lease = self._leases[execution_id]
            return (
                lease.owner is None
                or lease.owner in dead_owners
                or (lease.expires is not None and lease.expires < now)
            )

        unfinished = [
            (execution_id, record)
            for execution_id, record in self._executions.items()
            if record.status in (ExecutionStatus.PENDING, ExecutionStatus.RUNNING)
        ]
        running: Counter[str] = Counter(
            record.tenant_id for id_, record in unfinished if not free(id_)
        )
        places: Counter[str] = Counter()
        queue: list[tuple[int, dt.datetime, str]] = []
        for execution_id, record in sorted(unfinished, key=lambda i: i[1].created_at):
            if not free(execution_id):
                continue
            if execution_ids is not None and execution_id not in execution_ids:
                continue
            places[record.tenant_id] += 1
            turn = running[record.tenant_id] + places[record.tenant_id]
            if tenant_cap is None or turn <= tenant_cap:
                queue.append((turn, record.created_at, execution_id))
        claimed = [
            execution_id for _, _, execution_id in sorted(queue)[: max(limit, 0)]
        ]
        for execution_id in claimed:
            self._leases[execution_id] = _Lease(
                owner, now + dt.timedelta(seconds=lease_s)
            )
        return claimed

    async def lease_owners(self, prefix: str) -> list[str]:
        """See `RunStore.lease_owners`."""
        now = utcnow()
        return sorted(
            {
                lease.owner
                for execution_id, lease in self._leases.items()
                if lease.owner is not None
                and lease.owner.startswith(prefix)
                and (lease.expires is None or lease.expires >= now)
                and not self._executions[execution_id].status.is_final
            }
        )

    async def renew(
        self, owner: str, execution_ids: Sequence[str], lease_s: float
    ) -> dict[str, bool]:
        """See `RunStore.renew`."""
        held: dict[str, bool] = {}
        for execution_id in execution_ids:
            lease = self._leases.get(execution_id)
            if lease is not None and lease.owner == owner:
                lease.expires = utcnow() + dt.timedelta(seconds=lease_s)
                held[execution_id] = self._executions[execution_id].cancel_requested
        return held

    async def release(self, owner: str, execution_ids: Sequence[str]) -> None:
        """See `RunStore.release`."""
        for execution_id in execution_ids:
            if self._leases.get(execution_id, _Lease()).owner == owner:
                self._leases[execution_id] = _Lease()

    async def request_cancel(
        self, execution_id: str, tenant_id: str, audit: object = None
    ) -> ExecutionRecord:
        """See `RunStore.request_cancel`."""
        record = await self.load_execution(execution_id, tenant_id)
        if not record.status.is_final:
            # A parked execution goes back to the runners, which close it.
            status = (
                ExecutionStatus.PENDING
                if record.status is ExecutionStatus.WAITING_APPROVAL
                else record.status
            )
            self._executions[execution_id] = dataclasses.replace(
                self._executions[execution_id], cancel_requested=True, status=status
            )
        return await self.load_execution(execution_id, tenant_id)

    async def reopen_decided(self, execution_id: str) -> bool:
        """See `RunStore.reopen_decided`."""
        record = self._executions[execution_id]
        decided = any(
            s.status is StepStatus.WAITING_APPROVAL and s.output is not None
            for s in self._steps[execution_id].values()
        )
        if record.status is not ExecutionStatus.WAITING_APPROVAL or not decided:
            return False
        self._executions[execution_id] = dataclasses.replace(
            record, status=ExecutionStatus.PENDING
        )
        return True

    async def events_after(
        self, execution_id: str, after_seq: int = 0, limit: int | None = None
    ) -> list[ExecutionEvent]:
        """See `RunStore.events_after`."""
        found = [e for e in self._events.get(execution_id, []) if e.seq > after_seq]
        return found[:limit] if limit is not None else found

    async def last_event(self, execution_id: str) -> ExecutionEvent | None:
        """See `RunStore.last_event`."""
        stored = self._events.get(execution_id)
        return stored[-1] if stored else None
