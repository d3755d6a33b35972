"""The e-mail that tells approvers a workflow waits for them (Finnish, with English
below), naming the execution, what waits and the three ways to decide."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from ..core.approvals import ApprovalRecord

_HELSINKI = ZoneInfo("Europe/Helsinki")


def approval_message(
    record: ApprovalRecord, sender: str, to: list[str]
) -> EmailMessage:
    """The announcement of one waiting approval."""
    request = record.request
    expires = request.expires_at.astimezone(_HELSINKI).strftime("%d.%m.%Y klo %H.%M")
    where = f"{request.execution_id}/{request.step_id}"
    details = f"\n{request.details}\n" if request.details else ""
    role = request.approver_role.value
    mutation = (
        f'mutation {{ decideApproval(executionId: "{request.execution_id}", '
        f'stepId: "{request.step_id}", approve: true, comment: "OK") '
        "{ status } }"
    )
    rest = (
        "curl -X POST -H 'X-API-Key: <avain>' -H 'Content-Type: application/json' "
        '-d \'{"approve": true, "comment": "OK"}\' '
        f"<palvelin>/api/v1/agent-orchestrator/workflows/{request.execution_id}"
        f"/approvals/{request.step_id}"
    )
    cli = (
        f"agent-orchestrator approvals approve {request.execution_id} "
        f'{request.step_id} --comment "OK"'
    )
    body = f"""Hei,

työnkulku odottaa hyväksyntääsi:

  {request.title}
{details}
Suoritus: {request.execution_id}
Vaihe: {request.step_id}
Hyväksyjän rooli: vähintään {role}
Voimassa: {expires} asti (Suomen aikaa); sen jälkeen pyyntö vanhenee ja työnkulku
päättyy.

Päätä jollakin näistä tavoista (hylkää: approve: false / "reject"):

GraphQL:
  {mutation}

REST:
  {rest}

Komentorivi:
  {cli}
  agent-orchestrator approvals reject {where.replace("/", " ")} --comment "Syy"

Avain, jolla suoritus käynnistettiin, ei voi päättää siitä (neljän silmän periaate).

--
A workflow waits for your approval: "{request.title}" (execution
{request.execution_id}, step {request.step_id}, role {role} or higher), until
{request.expires_at.isoformat()}. Decide with the decideApproval mutation, the REST
route or the CLI above; the key that started the execution cannot decide it.
"""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Subject"] = f"Hyväksyntä odottaa: {request.title}"
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(idstring=request.id)
    message.set_content(body, charset="utf-8")
    return message
