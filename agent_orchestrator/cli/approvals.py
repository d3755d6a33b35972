"""``agent-orchestrator approvals list|approve|reject``: the approval requests of a
tenant and their decisions, over the same use case as ``decideApproval``.

The command line acts as ``cli`` (an admin of the tenant): it may not decide an
execution it started itself (four eyes). A decided execution continues on a running
server or worker, which claims it at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..core.ids import DEFAULT_TENANT
from .output import console, run
from .startup import load_settings, open_checked_services, require_enabled

if TYPE_CHECKING:
    from ..core.approvals import ApprovalRecord

approvals_app = typer.Typer(
    name="approvals",
    help="List and decide the approval requests of workflows (hyväksynnät).",
    no_args_is_help=True,
)

DatabaseOption = Annotated[
    str | None,
    typer.Option("--database-url", help="Overrides DATABASE_URL.", show_default=False),
]
TenantOption = Annotated[str, typer.Option(help="Tenant whose approvals.")]
CommentOption = Annotated[
    str | None, typer.Option("--comment", "-m", help="Why (kept with the decision).")
]


def _row(record: ApprovalRecord) -> dict[str, Any]:
    request = record.request
    return {
        "execution_id": request.execution_id,
        "step_id": request.step_id,
        "title": request.title,
        "status": record.status.value,
        "approver_role": request.approver_role.value,
        "requested_by": request.requested_by,
        "expires_at": request.expires_at.isoformat(),
        "decided_by": record.decided_by,
        "comment": record.comment,
    }


@approvals_app.command("list")
def list_approvals(
    status: Annotated[
        str | None,
        typer.Option(
            help="PENDING, APPROVED, REJECTED, EXPIRED or CANCELLED (default: all)."
        ),
    ] = "PENDING",
    tenant: TenantOption = DEFAULT_TENANT,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """List approval requests, newest first (default: the waiting ones)."""
    from ..core.approvals import ApprovalStatus
    from ..service.caller import Caller

    try:
        wanted = ApprovalStatus(status.strip().upper()) if status else None
    except ValueError:
        allowed = ", ".join(s.value for s in ApprovalStatus)
        raise typer.BadParameter(
            f"unknown status {status!r}; use one of {allowed}", param_hint="--status"
        ) from None
    settings = load_settings(database_url)

    async def main() -> list[ApprovalRecord]:
        async with open_checked_services(settings, resume=False) as services:
            return await services.approvals.find(Caller.cli(tenant), status=wanted)

    rows = [_row(r) for r in run(main, settings.database_url)]
    if as_json:
        console.print_json(data=rows)
        return
    if not rows:
        console.print("Ei hyväksyntöjä / no approvals.")
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"Tenant '{tenant}' approvals")
    for column in ("execution", "step", "title", "status", "role", "expires"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["execution_id"],
            row["step_id"],
            escape(row["title"]),
            row["status"],
            row["approver_role"],
            row["expires_at"][:16],
        )
    console.print(table)


def _decide(
    execution_id: str,
    step_id: str,
    *,
    approve: bool,
    comment: str | None,
    tenant: str,
    database_url: str | None,
) -> None:
    from ..service.caller import Caller

    settings = load_settings(database_url)
    require_enabled(settings)

    async def main() -> ApprovalRecord:
        async with open_checked_services(settings, resume=False) as services:
            return await services.approvals.decide(
                Caller.cli(tenant),
                execution_id,
                step_id,
                approve=approve,
                comment=comment,
                continue_here=False,
            )

    record = run(main, settings.database_url)
    if approve:
        console.print(
            f"Hyväksytty / approved: execution {execution_id} continues from step "
            f"'{step_id}' on a running server or worker.",
            highlight=False,
        )
    else:
        console.print(
            f"Hylätty / rejected: execution {execution_id} ends FAILED at step "
            f"'{step_id}'.",
            highlight=False,
        )
    console.print(f"status: {record.status.value}", highlight=False)


@approvals_app.command("approve")
def approve(
    execution_id: Annotated[str, typer.Argument(help="The waiting execution.")],
    step_id: Annotated[str, typer.Argument(help="Its approval step.")],
    comment: CommentOption = None,
    tenant: TenantOption = DEFAULT_TENANT,
    database_url: DatabaseOption = None,
) -> None:
    """Approve: the execution continues from the approval step."""
    _decide(
        execution_id,
        step_id,
        approve=True,
        comment=comment,
        tenant=tenant,
        database_url=database_url,
    )


@approvals_app.command("reject")
def reject(
    execution_id: Annotated[str, typer.Argument(help="The waiting execution.")],
    step_id: Annotated[str, typer.Argument(help="Its approval step.")],
    comment: CommentOption = None,
    tenant: TenantOption = DEFAULT_TENANT,
    database_url: DatabaseOption = None,
) -> None:
    """Reject: the approval step fails and the execution ends FAILED."""
    _decide(
        execution_id,
        step_id,
        approve=False,
        comment=comment,
        tenant=tenant,
        database_url=database_url,
    )
