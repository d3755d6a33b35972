"""The command-line tool ``agent-orchestrator`` (also installed as
``converto-agent-cli``).

It talks to the database named by the same settings as the server (``DATABASE_URL``,
``.env``).
"""

from __future__ import annotations

import json
import signal
import sys
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import anyio
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from . import __version__
from .app import Services, create_agent_registry, create_app, open_services
from .config import Settings, load_settings
from .core.enums import EventType, ExecutionStatus, Role
from .core.errors import AgentOrchestratorError, ValidationFailed
from .core.graph import parse_graph
from .core.ids import DEFAULT_TENANT
from .engine.service import ExecuteRequest

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from .core.graph import WorkflowGraph
    from .planner.model import Plan

app = typer.Typer(
    name="agent-orchestrator",
    help="Durable workflows of bookkeeping agents, driven in Finnish.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
err = Console(stderr=True)
T = TypeVar("T")

DatabaseOption = Annotated[
    str | None,
    typer.Option("--database-url", help="Overrides DATABASE_URL.", show_default=False),
]


def _settings(database_url: str | None = None) -> Settings:
    overrides = {"database_url": database_url} if database_url else {}
    return load_settings(**overrides)


def _run(main: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine; our errors become a red line and exit code 2."""
    try:
        return anyio.run(main)
    except AgentOrchestratorError as exc:
        _fail(exc)
    except BaseExceptionGroup as group:
        # Raised inside `open_services`, our errors come wrapped by its task group.
        ours, rest = group.split(AgentOrchestratorError)
        if ours is None or rest is not None:
            raise
        leaf: BaseException = ours
        while isinstance(leaf, BaseExceptionGroup):
            leaf = leaf.exceptions[0]
        assert isinstance(leaf, AgentOrchestratorError)
        _fail(leaf)
    except OSError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None


def _fail(exc: AgentOrchestratorError) -> NoReturn:
    if isinstance(exc, ValidationFailed):
        err.print(f"[red]error:[/red] {len(exc.problems)} problem(s):")
        for problem in exc.problems:
            err.print(f"  - [bold]{problem.path or '(root)'}[/bold]: {problem.message}")
    else:
        err.print(f"[red]error:[/red] {exc}")
    raise typer.Exit(2)


@app.command()
def migrate(database_url: DatabaseOption = None) -> None:
    """Create or upgrade the database schema to the latest version."""
    from .store.migrate import upgrade

    settings = _settings(database_url)
    try:
        with console.status("Applying migrations..."):
            upgrade(settings.database_url)
    except AgentOrchestratorError as exc:
        _fail(exc)
    console.print(
        f"[green]Database is up to date[/green] ({_safe_url(settings.database_url)})"
    )


@app.command("list-agents")
def list_agents(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the registered agents."""
    try:
        registry = create_agent_registry(_settings())
    except AgentOrchestratorError as exc:
        _fail(exc)
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
    template: Annotated[str, typer.Argument(help="Template id, e.g. vat_report.")],
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
    """Run a template with live progress per step, then print its result."""
    settings = _settings(database_url)

    async def main() -> int:
        async with open_services(settings, resume=False) as services:
            graph = services.workflows.template(template).graph
            request = ExecuteRequest(
                tenant_id=tenant,
                template_id=template,
                variables=_parse_vars(var or [], graph),
                idempotency_key=idempotency_key,
                actor="cli",
                role=Role.ADMIN,
                metadata={"source": "cli"},
            )
            return await _follow(services, request)

    raise typer.Exit(_run(main))


async def _follow(services: Services, request: ExecuteRequest) -> int:
    graph = (
        parse_graph(request.graph)
        if request.graph is not None
        else services.workflows.template(request.template_id or "").graph
    )
    with services.bus.subscribe() as feed:
        record, created = await services.workflows.execute(request)
        console.print(
            f"Execution [bold]{record.id}[/bold]" + ("" if created else " (existing)")
        )
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[state]}"),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            tasks = {
                s.id: progress.add_task(
                    f"{s.id} [dim]({s.agent})[/dim]", total=1, state="waiting"
                )
                for s in graph.steps
            }
            for stored in (await services.runs.load_execution(record.id)).steps:
                _show(progress, tasks, stored.step_id, stored.status.value)
            async with anyio.create_task_group() as tg:
                tg.start_soon(
                    _cancel_on_interrupt, services, record.id, tg.cancel_scope
                )
                final = record
                if created or not record.status.is_final:
                    async for event in feed.receive:
                        if event.execution_id != record.id:
                            continue
                        _on_event(
                            progress,
                            tasks,
                            event.type,
                            event.step_id,
                            event.data,
                            event.attempt,
                        )
                        if event.type.is_final:
                            break
                final = await services.runner.wait_finished(record.id)
                tg.cancel_scope.cancel()
    colour = {"SUCCEEDED": "green", "FAILED": "red"}.get(final.status.value, "yellow")
    console.print(
        f"[{colour}]{final.status.value}[/{colour}] in {final.duration_ms or 0} ms"
    )
    if final.error_message:
        console.print(f"[red]{final.error_message}[/red]")
    console.print_json(data=final.result or {})
    return 0 if final.status is ExecutionStatus.SUCCEEDED else 1


def _show(progress: Progress, tasks: dict[str, Any], step_id: str, state: str) -> None:
    done = state in ("SUCCEEDED", "SKIPPED", "FAILED", "CANCELLED")
    progress.update(tasks[step_id], state=state.lower(), completed=1 if done else 0)


def _on_event(
    progress: Progress,
    tasks: dict[str, Any],
    kind: EventType,
    step_id: str | None,
    data: Any,
    attempt: int | None,
) -> None:
    if step_id is None or step_id not in tasks:
        return
    if kind is EventType.STEP_PROGRESS:
        fraction = data.get("fraction")
        progress.update(
            tasks[step_id],
            state=str(data.get("message", ""))[:40],
            completed=fraction if fraction is not None else 0,
        )
    elif kind is EventType.STEP_RETRYING:
        progress.update(tasks[step_id], state=f"retrying in {data.get('delay_ms')} ms")
    elif kind is EventType.STEP_STARTED:
        progress.update(
            tasks[step_id],
            state="running" + (f" (try {attempt})" if attempt and attempt > 1 else ""),
        )
    else:
        _show(progress, tasks, step_id, kind.value.removeprefix("STEP_"))


async def _cancel_on_interrupt(
    services: Services, execution_id: str, scope: anyio.CancelScope
) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for _ in signals:
            err.print("[yellow]Cancelling the execution...[/yellow]")
            services.runner.cancel(execution_id)


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

    from .schema.copilot import (
        CopilotCaller,
        CopilotOptions,
        plan_command,
        prepare_command,
    )

    try:
        day = dt.date.fromisoformat(reference_date) if reference_date else None
    except ValueError:
        raise typer.BadParameter(
            f"{reference_date!r}: write YYYY-MM-DD", param_hint="--reference-date"
        ) from None
    settings = _settings(database_url)
    caller = CopilotCaller(tenant_id=tenant, role=Role.ADMIN, actor="cli", via="cli")
    options = CopilotOptions(reference_date=day, language=language)

    async def main() -> int:
        async with open_services(settings, resume=False) as services:
            if dry_run:
                _show_plan(await plan_command(services, command, caller, options))
                return 0
            plan, request = await prepare_command(services, command, caller, options)
            _show_plan(plan)
            return await _follow(services, request)

    raise typer.Exit(_run(main))


def _show_plan(plan: Plan) -> None:
    """The plan: template, variables, steps, explanation and warnings."""
    console.print(
        f"[bold]Plan[/bold]: {plan.template_id} [dim](planner {plan.planner}"
        + (f", {plan.model_calls} model calls" if plan.model_calls else "")
        + ")[/dim]"
    )
    variables = Table(title="Variables", title_justify="left")
    variables.add_column("name")
    variables.add_column("value")
    for name, value in plan.variables.items():
        shown = value if isinstance(value, str) else json.dumps(value)
        variables.add_row(name, shown)
    console.print(variables)
    steps = Table(title="Steps", title_justify="left")
    for column in ("step", "agent", "after"):
        steps.add_column(column)
    graph = parse_graph(plan.graph)
    dependencies = graph.dependencies()
    for step in graph.steps:
        steps.add_row(step.id, step.agent, ", ".join(sorted(dependencies[step.id])))
    console.print(steps)
    console.print(plan.explanation)
    for warning in plan.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")


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
    settings = _settings(database_url)

    async def main() -> str:
        from .security.api_keys import ApiKeyService
        from .store.api_keys import ApiKeyStore
        from .store.database import create_database

        async with create_database(settings.database_url) as database:
            record, key = await ApiKeyService(ApiKeyStore(database)).create(
                name=name,
                role=parsed_role,
                tenant_id=tenant,
                expires_in_days=expires_in_days,
                created_by="cli",
            )
        err.print(
            f"Created API key [bold]{record.id}[/bold] '{record.name}' role "
            f"{record.role.value.lower()} tenant {record.tenant_id}, expires "
            f"{record.expires_at:%Y-%m-%d}. It is shown only now; store it safely."
        )
        return key

    key = _run(main)
    # The key alone on stdout's last line, for scripts: KEY=$(agent-orchestrator ...).
    print(key)


@app.command("revoke-api-key")
def revoke_api_key(
    key_id: Annotated[str, typer.Argument(help="The key's id (not the key).")],
    database_url: DatabaseOption = None,
) -> None:
    """Revoke an API key at once."""
    settings = _settings(database_url)

    async def main() -> None:
        from .store.api_keys import ApiKeyStore
        from .store.database import create_database

        async with create_database(settings.database_url) as database:
            record = await ApiKeyStore(database).revoke(key_id)
        console.print(
            f"Revoked API key {record.id} '{record.name}' ({record.prefix}...)"
        )

    _run(main)


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
    database_url: DatabaseOption = None,
) -> None:
    """Serve the API (and run workflows) with uvicorn."""
    import ipaddress

    import uvicorn

    settings = _settings(database_url)
    if not settings.agent_api_key_enabled:
        loopback = host == "localhost"
        try:
            loopback = loopback or ipaddress.ip_address(host).is_loopback
        except ValueError:
            pass
        if not loopback and not (allow_insecure or settings.agent_allow_insecure_bind):
            err.print(
                "[red]error:[/red] AGENT_API_KEY_ENABLED is false, so anyone "
                f"reaching {host}:{port} would be an admin. Bind 127.0.0.1, switch "
                "keys on, or pass --allow-insecure if you really mean it."
            )
            raise typer.Exit(2)
        err.print(
            "[yellow]warning:[/yellow] API keys are switched off "
            "(AGENT_API_KEY_ENABLED=false)"
        )
        bootstrap_key = False
    if bootstrap_key:
        _bootstrap_admin_key(settings)
    base = f"http://{_display_host(host)}:{port}"
    console.print(
        f"Agent Orchestrator {__version__}: GraphiQL at [bold]{base}/graphql[/bold], "
        f"health at {base}/health"
    )
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        # One log line per request costs more than a small query; errors are still
        # logged, and Prometheus counts traffic.
        access_log=settings.log_level == "DEBUG",
        ws="websockets-sansio" if _has_sansio() else "auto",
        # Compressing every small event message for every subscriber costs more CPU
        # than the bytes it saves on a LAN.
        ws_per_message_deflate=False,
    )


def _has_sansio() -> bool:
    try:
        import uvicorn.protocols.websockets.websockets_sansio_impl  # noqa: F401
    except ImportError:
        return False
    return True


def _display_host(host: str) -> str:
    return "localhost" if host in ("0.0.0.0", "127.0.0.1", "::") else host


def _bootstrap_admin_key(settings: Settings) -> None:
    async def main() -> str | None:
        from .security.api_keys import ApiKeyService
        from .store.api_keys import ApiKeyStore
        from .store.database import create_database

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

    key = _run(main)
    if key:
        console.print(
            "[bold green]First start:[/bold green] an admin API key for tenant "
            f"'{DEFAULT_TENANT}' (shown only now; send it as the X-API-Key header):\n"
            f"  [bold]{key}[/bold]"
        )


@app.command()
def metrics(
    hours_back: Annotated[int, typer.Option(help="Window in hours.")] = 24,
    tenant: Annotated[str, typer.Option(help="Tenant to report.")] = DEFAULT_TENANT,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Show execution metrics for a tenant."""
    settings = _settings(database_url)

    async def main() -> Any:
        from .store.database import create_database
        from .store.metrics import MetricsQueries

        async with create_database(settings.database_url) as database:
            return await MetricsQueries(database).snapshot(tenant, hours_back)

    snap = _run(main)
    if as_json:
        import dataclasses

        console.print_json(data=dataclasses.asdict(snap))
        return
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
    settings = _settings(database_url)

    async def main() -> None:
        async with open_services(settings, resume=True) as services:
            console.print(f"Worker {services.runner.owner} running; Ctrl-C stops it.")
            with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                async for _ in signals:
                    break
            console.print("Stopping; unfinished executions are handed back.")

    _run(main)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparsable URL)"


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except AgentOrchestratorError as exc:
        try:
            _fail(exc)
        except typer.Exit as exit_:
            sys.exit(exit_.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
