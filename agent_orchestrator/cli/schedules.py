"""``agent-orchestrator schedules list|create|pause|resume|delete``: the same use
cases as GraphQL's `schedules` and `createSchedule`, as the tenant's admin."""

from __future__ import annotations

import json
from pathlib import Path  # noqa: TC003 (typer reads the annotations at run time)
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from ..core.ids import DEFAULT_TENANT
from .output import console, run
from .startup import load_settings, open_checked_services

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from ..core.schedules import ScheduleRecord
    from ..service.container import Services

schedules_app = typer.Typer(
    name="schedules",
    help="Workflows fired on a cron expression (Europe/Helsinki by default).",
    no_args_is_help=True,
)

TenantOption = Annotated[str, typer.Option(help="The tenant.")]
DatabaseOption = Annotated[
    str | None,
    typer.Option("--database-url", help="Overrides DATABASE_URL.", show_default=False),
]


def _with_services(
    database_url: str | None, work: Callable[[Services], Awaitable[Any]]
) -> Any:
    settings = load_settings(database_url)

    async def main() -> Any:
        # resume=False: this command fires nothing and takes no executions over.
        async with open_checked_services(settings, resume=False) as services:
            return await work(services)

    return run(main, settings.database_url)


def _when(record: ScheduleRecord) -> str:
    if record.next_run_at is None:
        return "-"
    from zoneinfo import ZoneInfo

    local = record.next_run_at.astimezone(ZoneInfo(record.timezone))
    return f"{local:%Y-%m-%d %H:%M %Z}"


def _show(record: ScheduleRecord) -> None:
    state = "käytössä / enabled" if record.enabled else "keskeytetty / paused"
    console.print(
        f"Schedule {record.id} '{record.name}': {record.cron} ({record.timezone}), "
        f"{state}, next {_when(record)}",
        markup=False,
        highlight=False,
    )


@schedules_app.command("list")
def list_schedules(
    tenant: TenantOption = DEFAULT_TENANT,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """List the tenant's schedules."""
    from ..service.caller import Caller

    found: list[ScheduleRecord] = _with_services(
        database_url, lambda s: s.schedules.list(Caller.cli(tenant))
    )
    if as_json:
        print(json.dumps([r.as_json() for r in found], ensure_ascii=False))
        return
    table = Table("id", "name", "cron", "timezone", "enabled", "next run", "last error")
    for r in found:
        table.add_row(
            r.id,
            r.name,
            r.cron,
            r.timezone,
            "yes" if r.enabled else "paused",
            _when(r),
            r.last_error or "",
        )
    console.print(table)


def _variables(pairs: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(
                f"{pair!r}: write --var name=value", param_hint="--var"
            )
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        # Dates and other text stay text even where JSON would read a number.
        values[name.strip()] = value if isinstance(value, list | dict) else raw
    return values


@schedules_app.command("create")
def create_schedule(
    name: Annotated[str, typer.Argument(help="A name to tell it apart.")],
    cron: Annotated[
        str,
        typer.Argument(help="Five cron fields, e.g. '0 8 1 * *' (08:00 on the 1st)."),
    ],
    template: Annotated[
        str | None, typer.Option(help="Template id to run.", show_default=False)
    ] = None,
    workflow: Annotated[
        str | None, typer.Option(help="Saved workflow id to run.", show_default=False)
    ] = None,
    graph_file: Annotated[
        Path | None,
        typer.Option("--graph", help="A workflow graph JSON file.", show_default=False),
    ] = None,
    timezone: Annotated[str, typer.Option(help="IANA time zone.")] = "Europe/Helsinki",
    var: Annotated[
        list[str] | None,
        typer.Option(
            "--var",
            help="A variable as name=value; repeatable. "
            "${period.previous_month.start} and the like resolve when a slot fires.",
        ),
    ] = None,
    tenant: TenantOption = DEFAULT_TENANT,
    database_url: DatabaseOption = None,
) -> None:
    """Make a schedule (validated like execute-workflow)."""
    from ..service.caller import Caller
    from ..service.schedules import NewSchedule

    graph: Any = None
    if graph_file is not None:
        try:
            graph = json.loads(graph_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise typer.BadParameter(
                f"cannot read {graph_file}: {exc}", param_hint="--graph"
            ) from None
    request = NewSchedule(
        name=name,
        cron=cron,
        timezone=timezone,
        template_id=template,
        workflow_id=workflow,
        graph=graph,
        variables=_variables(var or []),
    )
    record: ScheduleRecord = _with_services(
        database_url, lambda s: s.schedules.create(Caller.cli(tenant), request)
    )
    _show(record)


def _change(
    verb: str, schedule_id: str, tenant: str, database_url: str | None
) -> ScheduleRecord:
    from ..service.caller import Caller

    caller = Caller.cli(tenant)

    async def work(services: Services) -> ScheduleRecord:
        method = getattr(services.schedules, verb)
        result: ScheduleRecord = await method(caller, schedule_id)
        return result

    result: ScheduleRecord = _with_services(database_url, work)
    return result


IdArgument = Annotated[str, typer.Argument(help="The schedule's id.")]


@schedules_app.command("pause")
def pause_schedule(
    schedule_id: IdArgument,
    tenant: TenantOption = DEFAULT_TENANT,
    database_url: DatabaseOption = None,
) -> None:
    """Pause a schedule: it fires nothing until resumed."""
    _show(_change("pause", schedule_id, tenant, database_url))


@schedules_app.command("resume")
def resume_schedule(
    schedule_id: IdArgument,
    tenant: TenantOption = DEFAULT_TENANT,
    database_url: DatabaseOption = None,
) -> None:
    """Resume a schedule from its next slot after now."""
    _show(_change("resume", schedule_id, tenant, database_url))


@schedules_app.command("delete")
def delete_schedule(
    schedule_id: IdArgument,
    tenant: TenantOption = DEFAULT_TENANT,
    database_url: DatabaseOption = None,
) -> None:
    """Delete a schedule (the executions it started stay)."""
    from ..service.caller import Caller

    _with_services(
        database_url, lambda s: s.schedules.delete(Caller.cli(tenant), schedule_id)
    )
    console.print(f"Deleted schedule {schedule_id}", markup=False, highlight=False)
