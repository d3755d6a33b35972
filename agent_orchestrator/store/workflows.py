"""Saved workflows (``agent_workflows``) with every version kept readable
(``agent_workflow_versions``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, insert, or_, select, update

from ..core.errors import NotFound
from ..core.ids import as_utc, new_id, utcnow
from ..core.records import AuditEntry, Page, WorkflowRecord
from .audit import write_audit
from .models import StoredRow, WorkflowRow, WorkflowVersionRow, table_of
from .pagination import check_page_size, decode_cursor, encode_cursor

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .database import Database

workflows = table_of(WorkflowRow)
versions = table_of(WorkflowVersionRow)


class WorkflowStore:
    """Saves, versions, lists and deletes a tenant's workflows."""

    def __init__(self, database: Database) -> None:
        self.db = database

    async def save(
        self,
        *,
        tenant_id: str,
        name: str,
        description: str,
        graph: Mapping[str, Any],
        created_by: str | None,
        workflow_id: str | None = None,
        audit: AuditEntry | None = None,
    ) -> WorkflowRecord:
        """Save a new workflow, or a new version of `workflow_id` (earlier ones stay).

        Raises:
            NotFound: `workflow_id` is not one of the tenant's active workflows.
        """
        now = utcnow()
        async with self.db.write() as conn:
            if workflow_id is None:
                workflow_id, version = new_id(), 1
                await conn.execute(
                    insert(workflows),
                    [
                        {
                            "id": workflow_id,
                            "tenant_id": tenant_id,
                            "name": name,
                            "description": description,
                            "definition": dict(graph),
                            "version": 1,
                            "is_active": True,
                            "created_by": created_by,
                            "created_at": now,
                            "updated_at": now,
                        }
                    ],
                )
            else:
                current = (
                    await conn.execute(
                        select(workflows.c.version)
                        .where(
                            workflows.c.id == workflow_id,
                            workflows.c.tenant_id == tenant_id,
                            workflows.c.is_active.is_(True),
                        )
                        .with_for_update()
                    )
                ).scalar()
                if current is None:
                    raise NotFound(f"workflow {workflow_id} not found")
                version = current + 1
                await conn.execute(
                    update(workflows)
                    .where(workflows.c.id == workflow_id)
                    .values(
                        name=name,
                        description=description,
                        definition=dict(graph),
                        version=version,
                        updated_at=now,
                    )
                )
            await conn.execute(
                insert(versions),
                [
                    {
                        "workflow_id": workflow_id,
                        "version": version,
                        "tenant_id": tenant_id,
                        "name": name,
                        "description": description,
                        "definition": dict(graph),
                        "created_by": created_by,
                        "created_at": now,
                    }
                ],
            )
            if audit is not None:
                await write_audit(conn, _with_resource(audit, workflow_id, version))
        return await self.get(workflow_id, tenant_id)

    async def get(
        self, workflow_id: str, tenant_id: str, version: int | None = None
    ) -> WorkflowRecord:
        """The workflow at `version` (the current one when None).

        Raises:
            NotFound: No such workflow or version for this tenant.
        """
        async with self.db.read() as conn:
            head = (
                (
                    await conn.execute(
                        select(workflows).where(
                            workflows.c.id == workflow_id,
                            workflows.c.tenant_id == tenant_id,
                            workflows.c.is_active.is_(True),
                        )
                    )
                )
                .mappings()
                .first()
            )
            if head is None:
                raise NotFound(f"workflow {workflow_id} not found")
            if version is None or version == head["version"]:
                return _record(head, head)
            row = (
                (
                    await conn.execute(
                        select(versions).where(
                            versions.c.workflow_id == workflow_id,
                            versions.c.version == version,
                        )
                    )
                )
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound(f"workflow {workflow_id} has no version {version}")
        return _record(head, row)

    async def versions(self, workflow_id: str, tenant_id: str) -> list[WorkflowRecord]:
        """Every version, oldest first."""
        head = await self.get(workflow_id, tenant_id)
        async with self.db.read() as conn:
            rows = (
                (
                    await conn.execute(
                        select(versions)
                        .where(
                            versions.c.workflow_id == workflow_id,
                            versions.c.tenant_id == tenant_id,
                        )
                        .order_by(versions.c.version)
                    )
                )
                .mappings()
                .all()
            )
        return [
            WorkflowRecord(
                id=head.id,
                tenant_id=tenant_id,
                name=r["name"],
                description=r["description"],
                version=r["version"],
                graph=r["definition"],
                created_at=head.created_at,
                updated_at=as_utc(r["created_at"]) or head.updated_at,
                created_by=r["created_by"],
            )
            for r in rows
        ]

    async def page(
        self, tenant_id: str, *, first: int = 20, after: str | None = None
    ) -> Page[WorkflowRecord]:
        """Active workflows, most recently changed first."""
        check_page_size(first)
        query = select(workflows).where(
            workflows.c.tenant_id == tenant_id, workflows.c.is_active.is_(True)
        )
        if after:
            at, row_id = decode_cursor(after)
            query = query.where(
                or_(
                    workflows.c.updated_at < at,
                    and_(workflows.c.updated_at == at, workflows.c.id < row_id),
                )
            )
        query = query.order_by(workflows.c.updated_at.desc(), workflows.c.id.desc())
        async with self.db.read() as conn:
            rows = (await conn.execute(query.limit(first + 1))).mappings().all()
        records = [_record(r, r) for r in rows[:first]]
        return Page(
            [(encode_cursor(r.updated_at, r.id), r) for r in records],
            has_next=len(rows) > first,
            has_previous=after is not None,
        )

    async def delete(
        self, workflow_id: str, tenant_id: str, audit: AuditEntry | None = None
    ) -> None:
        """Delete a workflow (its versions stay for executions that ran them).

        Raises:
            NotFound: No such active workflow for this tenant.
        """
        async with self.db.write() as conn:
            done = await conn.execute(
                update(workflows)
                .where(
                    workflows.c.id == workflow_id,
                    workflows.c.tenant_id == tenant_id,
                    workflows.c.is_active.is_(True),
                )
                .values(is_active=False, updated_at=utcnow())
            )
            if done.rowcount != 1:
                raise NotFound(f"workflow {workflow_id} not found")
            await write_audit(conn, audit)


def _with_resource(entry: AuditEntry, workflow_id: str, version: int) -> AuditEntry:
    from dataclasses import replace

    return replace(
        entry, resource_id=workflow_id, details={**entry.details, "version": version}
    )


def _record(head: StoredRow, row: StoredRow) -> WorkflowRecord:
    created = as_utc(head["created_at"])
    updated = as_utc(row.get("updated_at") or row["created_at"])
    assert created is not None and updated is not None
    return WorkflowRecord(
        id=head["id"],
        tenant_id=head["tenant_id"],
        name=row["name"],
        description=row["description"],
        version=row["version"],
        graph=row["definition"],
        created_at=created,
        updated_at=updated,
        created_by=row["created_by"],
        is_active=bool(head["is_active"]),
    )
