"""The commands of ``agent-orchestrator`` (DESIGN.md "Command line").

Every command imports what it needs when it runs: the server, the ORM, the engine and
the planner are loaded by the commands that use them, never by ``--help``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path  # noqa: TC003 (typer reads the annotations at run time)
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .. import __version__
from ..core.enums import Role
from ..core.errors import AgentOrchestratorError
from ..core.ids import DEFAULT_TENANT
from .output import console, err, fail, run, warn
from .schedules import schedules_app
from .startup import (
    agent_registry,
    load_settings,
    open_admin_services,
    open_checked_services,
    ready_database,
    require_enabled,
)

if TYPE_CHECKING:
    from ..config import Settings
    from ..core.graph import WorkflowGraph
    from ..planner.model import Plan

app = typer.Typer(
    name="agent-orchestrator",
    help="Durable workflows of bookkeeping agents, driven in Finnish.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(schedules_app)

DatabaseOption = Annotated[
    str | None,
    typer.Option("--database-url", help="Overrides DATABASE_URL.", show_default=False),
]


def _add_groups() -> None:
    from .approvals import approvals_app

    app.add_typer(approvals_app)


_add_groups()


@app.command()
def migrate(database_url: DatabaseOption = None) -> None:
    """Create or upgrade the database schema to the latest version."""
    from ..store.migrate import migrate_async

    settings = load_settings(database_url)
    url = settings.database_url
    with console.status("Applying migrations..."):
        done = run(lambda: migrate_async(url), url)
    console.print(f"Database {done.url}: {done.describe()}", highlight=False)


@app.command("list-agents")
def list_agents(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the registered agents."""
    settings = load_settings()
    try:
        registry = agent_registry(settings)
    except AgentOrchestratorError as exc:
        fail(exc)
    if as_json:
        rows = [
            {
                "id": a.id,
                "name": a.name,
                "version": a.version,
                "min_role": a.min_role.value,
                "side_effects": a.side_effects,
                "description": {"fi": a.description.fi, "en": a.description.en},
            }
            for a in registry
        ]
        console.print_json(data=rows)
        return
    from rich.table import Table

    table = Table(title="Agents")
    for column in ("id", "version", "role", "effects", "description"):
        table.add_column(column)
    for agent in registry:
        table.add_row(
            agent.id,
            agent.version,
            agent.min_role.value.lower(),
            "yes" if agent.side_effects else "",
            agent.description.fi,
        )
    console.print(table)


@app.command("execute-workflow")
def execute_workflow(
    template: Annotated[
        str | None,
        typer.Argument(help="Template id, e.g. vat_report (or give --graph)."),
    ] = None,
    graph_file: Annotated[
        Path | None,
        typer.Option(
            "--graph",
            help="Run the workflow graph in this JSON file instead of a template.",
            show_default=False,
        ),
    ] = None,
    var: Annotated[
        list[str] | None,
        typer.Option("--var", help="A variable as name=value; repeatable."),
    ] = None,
    tenant: Annotated[str, typer.Option(help="Tenant to run as.")] = DEFAULT_TENANT,
    idempotency_key: Annotated[
        str | None, typer.Option(help="Run at most once.")
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Run a template or a graph file with live progress, then print the result."""
    from ..service.caller import Caller
    from ..service.executions import StartExecution
    from .progress import follow

    if (template is None) == (graph_file is None):
        raise typer.BadParameter(
            "give a TEMPLATE id or --graph FILE (one of them)", param_hint="TEMPLATE"
        )
    settings = load_settings(database_url)
    require_enabled(settings)
    document = _read_graph(graph_file) if graph_file is not None else None
    caller = Caller.cli(tenant)

    async def main() -> int:
        async with open_checked_services(settings, resume=False) as services:
            if document is not None:
                from ..core.graph import parse_graph

                graph = parse_graph(document)
            else:
                graph = (
                    await services.catalogue.template(caller, template or "")
                ).graph
            request = StartExecution(
                template_id=template,
                graph=document,
                variables=_parse_vars(var or [], graph),
                idempotency_key=idempotency_key,
            )
            return await follow(
                services,
                caller,
                graph,
                lambda: services.executions.start(caller, request),
            )

    raise typer.Exit(run(main, settings.database_url))


def _read_graph(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        fail(f"cannot read the graph file {path}: {exc.strerror or exc}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        fail(f"{path} is not a JSON document: {exc}")
    if not isinstance(document, dict):
        fail(f"{path} must hold a JSON object (a workflow graph)")
    return document


def _parse_vars(pairs: list[str], graph: WorkflowGraph) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(
                f"{pair!r}: write --var name=value", param_hint="--var"
            )
        name = name.strip()
        spec = graph.variables.get(name)
        if spec is not None and spec.type in ("string", "date"):
            values[name] = raw
            continue
        try:
            values[name] = json.loads(raw)
        except json.JSONDecodeError:
            values[name] = (
                [p.strip() for p in raw.split(",")]
                if spec and spec.type == "array"
                else raw
            )
    return values


@app.command()
def copilot(
    command: Annotated[
        str, typer.Argument(help='A command, e.g. "Luo talousraportti viime kuulta".')
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the plan; run nothing.")
    ] = False,
    reference_date: Annotated[
        str | None,
        typer.Option(help="'Today' for period words, YYYY-MM-DD (default: today)."),
    ] = None,
    tenant: Annotated[str, typer.Option(help="Tenant to run as.")] = DEFAULT_TENANT,
    language: Annotated[
        str | None, typer.Option(help="fi, en or sv (default: detected).")
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Plan a command in Finnish, show the plan, then run it with live progress."""
    import datetime as dt

    from ..core.graph import parse_graph
    from ..service.caller import Caller
    from ..service.copilot import CopilotOptions, plan_fingerprint
    from .progress import follow

    try:
        day = dt.date.fromisoformat(reference_date) if reference_date else None
    except ValueError:
        raise typer.BadParameter(
            f"{reference_date!r}: write YYYY-MM-DD", param_hint="--reference-date"
        ) from None
    settings = load_settings(database_url)
    require_enabled(settings)
    caller = Caller.cli(tenant)
    options = CopilotOptions(reference_date=day, language=language)

    async def main() -> int:
        async with open_checked_services(settings, resume=False) as services:
            if dry_run:
                _show_plan(await services.copilot.plan(caller, command, options))
                return 0
            plan, request = await services.copilot.prepare(caller, command, options)
            _show_plan(plan)
            if plan.schedule is not None:
                # A command that asks to run repeatedly makes a schedule.
                outcome = await services.copilot.execute(
                    caller, command, options, expect=plan_fingerprint(plan)
                )
                if outcome.schedule is not None:
                    console.print(
                        f"Ajastus / schedule {outcome.schedule.id}: "
                        f"{plan.schedule.description} ({plan.schedule.cron}, "
                        f"{plan.schedule.timezone})",
                        highlight=False,
                    )
                return 0
            return await follow(
                services,
                caller,
                parse_graph(plan.graph),
                lambda: services.starter.execute(request),
            )

    raise typer.Exit(run(main, settings.database_url))


def _show_plan(plan: Plan) -> None:
    """The plan: template, variables, steps, explanation and warnings."""
    from rich.markup import escape
    from rich.table import Table

    from ..core.graph import parse_graph

    console.print(
        f"[bold]Plan[/bold]: {plan.template_id or 'composed'} "
        f"[dim](planner {plan.planner}"
        + (f", {plan.model_calls} model calls" if plan.model_calls else "")
        + ")[/dim]"
    )
    variables = Table(title="Variables", title_justify="left")
    variables.add_column("name")
    variables.add_column("value")
    for name, value in plan.variables.items():
        shown = value if isinstance(value, str) else json.dumps(value)
        variables.add_row(name, escape(shown))
    console.print(variables)
    steps = Table(title="Steps", title_justify="left")
    for column in ("step", "agent", "after"):
        steps.add_column(column)
    graph = parse_graph(plan.graph)
    dependencies = graph.dependencies()
    for step in graph.steps:
        what = step.agent or ""
        if step.workflow is not None:
            what = step.workflow.template or step.workflow.workflow_id or "(graph)"
            if step.for_each is not None:
                what += " (for each)"
        steps.add_row(step.id, what, ", ".join(sorted(dependencies[step.id])))
    console.print(steps)
    console.print(plan.explanation, markup=False)
    for warning in plan.warnings:
        warn(escape(warning))


@app.command("generate-api-key")
def generate_api_key(
    name: Annotated[str, typer.Argument(help="A name to tell the key apart.")],
    role: Annotated[str, typer.Argument(help="viewer, operator or admin.")],
    tenant: Annotated[
        str, typer.Option(help="The tenant the key belongs to.")
    ] = DEFAULT_TENANT,
    expires_in_days: Annotated[
        int, typer.Option(help="Days until it expires (1-366).")
    ] = 90,
    database_url: DatabaseOption = None,
) -> None:
    """Create an API key; the key itself is printed once, alone on the last line."""
    try:
        parsed_role = Role.parse(role)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="ROLE") from None
    settings = load_settings(database_url)

    async def main() -> str:
        from ..service.caller import Caller

        async with open_admin_services(settings) as services:
            record, key = await services.api_keys.create(
                Caller.cli(tenant),
                name=name,
                role=parsed_role,
                expires_in_days=expires_in_days,
            )
        err.print(
            f"Created API key [bold]{record.id}[/bold] '{record.name}' role "
            f"{record.role.value.lower()} tenant {record.tenant_id}, expires "
            f"{record.expires_at:%Y-%m-%d}. It is shown only now; store it safely.",
            soft_wrap=True,
        )
        return key

    key = run(main, settings.database_url)
    # The key alone on stdout's last line, for scripts: KEY=$(agent-orchestrator ...).
    print(key)


@app.command("revoke-api-key")
def revoke_api_key(
    key_id: Annotated[str, typer.Argument(help="The key's id (not the key).")],
    database_url: DatabaseOption = None,
) -> None:
    """Revoke an API key at once."""
    settings = load_settings(database_url)

    async def main() -> None:
        from ..service.caller import Caller

        async with open_admin_services(settings) as services:
            keys = services.api_keys
            record = await keys.revoke(Caller.cli(await keys.tenant_of(key_id)), key_id)
        console.print(
            f"Revoked API key {record.id} '{record.name}' ({record.prefix}...)",
            markup=False,
        )

    run(main, settings.database_url)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="PORT", help="Port to listen on.")] = 8000,
    bootstrap_key: Annotated[
        bool, typer.Option(help="Create and print an admin key when none exists.")
    ] = True,
    allow_insecure: Annotated[
        bool,
        typer.Option(help="Bind a public address even with API keys switched off."),
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            envvar="AGENT_SERVE_WORKERS",
            help="API processes sharing the port (uvicorn's process manager); more "
            "than 1 needs PostgreSQL.",
        ),
    ] = 1,
    database_url: DatabaseOption = None,
) -> None:
    """Serve the API (and run workflows) with uvicorn.

    The database is checked first; the embedded default SQLite file (DATABASE_URL
    unset) is created or upgraded on the spot, any other database must be migrated
    with `agent-orchestrator migrate`.
    """
    settings = load_settings(database_url)
    if workers > 1:
        _check_workers(settings, workers)
    if not settings.agent_api_key_enabled:
        if not _is_loopback(host) and not (
            allow_insecure or settings.agent_allow_insecure_bind
        ):
            fail(
                "AGENT_API_KEY_ENABLED is false, so anyone reaching "
                f"{host}:{port} would be an admin. Bind 127.0.0.1, switch keys on, "
                "or pass --allow-insecure if you really mean it."
            )
        warn("API keys are switched off (AGENT_API_KEY_ENABLED=false)")
        bootstrap_key = False
    if not settings.agent_orchestrator_enabled:
        warn(
            "Agent Orchestrator is switched off (AGENT_ORCHESTRATOR_ENABLED=false): "
            "the API refuses work with 503 and /health says so"
        )

    async def prepare() -> str | None:
        await ready_database(settings, migrate_default=True)
        return await _first_admin_key(settings) if bootstrap_key else None

    key = run(prepare, settings.database_url)
    if key:
        console.print(
            "[bold green]First start:[/bold green] an admin API key for tenant "
            f"'{DEFAULT_TENANT}' (shown only now; send it as the X-API-Key header):\n"
            f"  [bold]{key}[/bold]"
        )
    _serve(settings, host, port, workers)


def _check_workers(settings: Settings, workers: int) -> None:
    """Refuse several processes on SQLite; warn when each would count its own rate
    limit."""
    if settings.is_sqlite:
        fail(
            f"serve --workers {workers} needs PostgreSQL: SQLite is the single-process "
            "embedded database. Set DATABASE_URL=postgresql://user:pass@host:5432/db "
            "(then run `agent-orchestrator migrate`), or serve with --workers 1."
        )
    if settings.agent_rate_limit_storage == "memory":
        warn(
            f"AGENT_RATE_LIMIT_STORAGE=memory: each of the {workers} processes counts "
            f"AGENT_RATE_LIMIT ({settings.agent_rate_limit}) on its own, so a key may "
            f"make {workers} times as many requests; set AGENT_RATE_LIMIT_STORAGE="
            "redis://host:6379/0 to share the limit"
        )


def _serve(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    import uvicorn

    base = f"http://{_display_host(host)}:{port}"
    where = "GraphiQL" if settings.agent_graphiql else "GraphQL"
    processes = f" ({workers} processes)" if workers > 1 else ""
    console.print(
        f"Agent Orchestrator {__version__}: {where} at [bold]{base}/graphql[/bold], "
        f"health at {base}/health{processes}"
    )
    from ..observability.logging import configure_logging

    # Our logging before uvicorn's first line, and none of uvicorn's own: its lines
    # go through the same JSON or console formatting, with secrets redacted.
    configure_logging(
        settings.log_level, settings.log_format, secrets=settings.secret_values()
    )
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_config": None,
        "log_level": settings.log_level.lower(),
        # One log line per request costs more than a small query; errors are still
        # logged, and Prometheus counts traffic.
        "access_log": settings.log_level == "DEBUG",
        "ws": "websockets-sansio" if _has_sansio() else "auto",
        # Compressing every small event message for every subscriber costs more CPU
        # than the bytes it saves on a LAN.
        "ws_per_message_deflate": False,
    }
    if workers == 1:
        from ..app import create_app

        uvicorn.run(create_app(settings), **options)
        return
    # uvicorn's process manager starts each worker in a new interpreter (spawn) that
    # imports the app by name and reads the settings from the environment: what
    # --database-url said must be there too.
    os.environ["DATABASE_URL"] = settings.database_url
    uvicorn.run(
        "agent_orchestrator.app:create_app_from_environment",
        factory=True,
        workers=workers,
        **options,
    )


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _has_sansio() -> bool:
    try:
        import uvicorn.protocols.websockets.websockets_sansio_impl  # noqa: F401
    except ImportError:
        return False
    return True


def _display_host(host: str) -> str:
    return "localhost" if host in ("0.0.0.0", "127.0.0.1", "::") else host


async def _first_admin_key(settings: Settings) -> str | None:
    """An admin key for the default tenant when the database has no key at all."""
    from ..security.api_keys import ApiKeyService
    from ..store.api_keys import ApiKeyStore
    from ..store.database import create_database

    async with create_database(settings.database_url) as database:
        store = ApiKeyStore(database)
        if await store.count():
            return None
        _, key = await ApiKeyService(store).create(
            name="first admin",
            role=Role.ADMIN,
            tenant_id=DEFAULT_TENANT,
            expires_in_days=365,
            created_by="bootstrap",
        )
        return key


@app.command()
def audit(
    tenant: Annotated[
        str, typer.Option(help="Tenant whose audit log to show.")
    ] = DEFAULT_TENANT,
    platform: Annotated[
        bool,
        typer.Option(
            "--platform",
            help="The platform audit instead: failed authentications with keys that "
            "belong to no tenant (no API key can read it).",
        ),
    ] = False,
    action: Annotated[
        str | None, typer.Option(help="Only this action, e.g. auth.failed.")
    ] = None,
    limit: Annotated[
        int, typer.Option(min=1, max=100, help="How many entries, newest first.")
    ] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Show the newest audit entries of a tenant, or of the platform."""
    settings = load_settings(database_url)

    async def main() -> Any:
        from ..service.audit import NO_TENANT
        from ..service.caller import Caller

        async with open_admin_services(settings) as services:
            caller = Caller.cli(NO_TENANT if platform else tenant)
            return await services.audit.page(caller, first=limit, action=action)

    page = run(main, settings.database_url)
    rows = [
        {
            "created_at": record.created_at.isoformat(),
            "tenant_id": record.entry.tenant_id,
            "action": record.entry.action,
            "result": record.entry.result,
            "user_id": record.entry.user_id,
            "resource": "/".join(
                filter(None, (record.entry.resource_type, record.entry.resource_id))
            ),
            "ip_address": record.entry.ip_address,
            "details": dict(record.entry.details),
        }
        for _, record in page.items
    ]
    if as_json:
        console.print_json(data=rows)
        return
    from rich.markup import escape
    from rich.table import Table

    title = "Platform audit" if platform else f"Tenant '{tenant}' audit"
    table = Table(title=title)
    for column in ("time", "action", "result", "actor", "resource", "ip", "reason"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["created_at"][:19],
            row["action"],
            row["result"],
            row["user_id"] or "",
            row["resource"],
            row["ip_address"] or "",
            escape(str(row["details"].get("reason", ""))),
        )
    console.print(table)


@app.command()
def metrics(
    hours_back: Annotated[int, typer.Option(help="Window in hours.")] = 24,
    tenant: Annotated[str, typer.Option(help="Tenant to report.")] = DEFAULT_TENANT,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Show execution metrics for a tenant."""
    settings = load_settings(database_url)

    async def main() -> Any:
        from ..service.caller import Caller

        async with open_admin_services(settings) as services:
            return await services.metrics.snapshot(Caller.cli(tenant), hours_back)

    snap = run(main, settings.database_url)
    if as_json:
        import dataclasses

        console.print_json(data=dataclasses.asdict(snap))
        return
    from rich.table import Table

    table = Table(title=f"Tenant '{tenant}', last {hours_back} h")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("executions", str(snap.total_executions))
    table.add_row("success rate", f"{snap.success_rate:.1%}")
    table.add_row("error rate", f"{snap.error_rate:.1%}")
    table.add_row("avg duration", f"{snap.avg_duration_ms or 0:.0f} ms")
    table.add_row("p95 duration", f"{snap.p95_duration_ms or 0:.0f} ms")
    console.print(table)
    agents = Table(title="Agents")
    for column in ("agent", "runs", "success rate", "avg duration"):
        agents.add_column(column)
    for a in snap.agents:
        agents.add_row(
            a.agent_id,
            str(a.executions),
            f"{a.success_rate:.1%}",
            f"{a.avg_duration_ms or 0:.0f} ms",
        )
    console.print(agents)


@app.command()
def worker(database_url: DatabaseOption = None) -> None:
    """Run workflows without serving HTTP (scale-out on PostgreSQL)."""
    settings = load_settings(database_url)
    require_enabled(settings)

    async def main() -> None:
        import signal

        import anyio

        from ..observability.sentry import configure_sentry
        from ..observability.tracing import open_tracing

        # A worker fires schedules too: a slot that cannot start goes to Sentry.
        configure_sentry(settings.sentry_dsn, environment=settings.agent_default_region)
        tracing = open_tracing(settings)
        try:
            # Signals are caught before anything is claimed: a SIGTERM during
            # start-up then drains like any other instead of ending the process
            # mid-step.
            with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                async with open_checked_services(
                    settings, resume=True, tracing=tracing
                ) as services:
                    console.print(
                        f"Worker {services.runner.owner} running; Ctrl-C stops it."
                    )
                    async for _ in signals:
                        break
                    console.print(
                        "Stopping: no new steps start; the ones under way end (at "
                        f"most {settings.agent_drain_seconds:g} s), then the "
                        "executions are handed back to the other workers."
                    )
        finally:
            if tracing is not None:
                # The spans of the last attempts, sent before the process ends.
                await anyio.to_thread.run_sync(tracing.shutdown)

    run(main, settings.database_url)


def main() -> None:
    """Console-script entry point."""
    if not (console.is_terminal and err.is_terminal):
        # Usage errors and help as plain click text for scripts and logs: rich's
        # panels are drawn 80 columns wide off a terminal and fold the message.
        app.rich_markup_mode = None
    try:
        app()
    except AgentOrchestratorError as exc:
        try:
            fail(exc)
        except typer.Exit as exit_:
            sys.exit(exit_.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
