"""Everything a server or worker runs: the registry, the templates, the planner, the
runner, the event hub, the scheduler and the use cases over them."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack, asynccontextmanager
from functools import partial
from typing import TYPE_CHECKING

import anyio

from ..agents.builtin import create_agent_registry
from ..agents.smtp import SmtpServer
from ..core.clocks import ScaledClock, SchedulerClock, SystemClock
from ..core.errors import Problem, ValidationFailed
from ..core.heap import freeze_startup_heap
from ..core.subworkflows import Found, RefKey, resolver
from ..core.templates import WorkflowTemplate, load_templates
from ..core.validation import validate_workflow
from ..engine.bus import EventBus, Fanout
from ..engine.hub import EventHub
from ..engine.runner import Runner
from ..engine.settings import EngineSettings
from ..observability.failures import FailureReports
from ..observability.logging import Redactor, configure_logging
from ..observability.prometheus import PrometheusMetrics
from ..planner.factory import open_planner
from ..security.sockets import KeySockets
from ..service.approvals import Approvals
from ..service.artifacts import Artifacts
from ..service.catalogue import Catalogue
from ..service.container import Services
from ..service.copilot import Copilot
from ..service.executions import Executions
from ..service.files import Files
from ..service.review import Review
from ..service.schedules import Schedules
from ..service.scheduling import Scheduler
from ..service.starting import ExecutionStarter
from ..service.switch import DISABLED_MESSAGE
from ..service.workflows import SavedWorkflows
from ..store.approvals import SqlApprovalStore
from ..store.artifacts import SqlArtifactStore
from ..store.database import create_database
from ..store.executions import ExecutionQueries
from ..store.ledger import SqlLedgerStore
from ..store.notify import listen_for_events
from ..store.outbox import SqlOutbox
from ..store.runs import SqlRunStore
from ..store.schedules import ScheduleStore
from ..store.workflows import WorkflowStore
from .admin import admin_parts

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from ..agents.registry import AgentRegistry
    from ..config import Settings
    from ..observability.spans import Tracing

log = logging.getLogger("agent_orchestrator")


def engine_settings(
    settings: Settings, *, resume: bool = True, run_submitted: bool = True
) -> EngineSettings:
    """The engine's knobs from the service settings."""
    return EngineSettings(
        max_retries=settings.agent_max_retries,
        timeout_ms=settings.agent_timeout_ms,
        retry_initial_ms=settings.agent_retry_initial_ms,
        retry_max_ms=settings.agent_retry_max_ms,
        lease_s=settings.agent_lease_seconds,
        max_concurrent_executions=settings.agent_max_concurrent_executions,
        resume=resume,
        run_submitted=run_submitted,
        tenant_max_concurrent=settings.agent_tenant_max_concurrent,
        drain_s=settings.agent_drain_seconds,
        max_foreach_items=settings.agent_max_foreach_items,
        max_step_runs=settings.agent_max_steps * settings.agent_max_foreach_items,
    )


def load_checked_templates(registry: AgentRegistry) -> dict[str, WorkflowTemplate]:
    """The shipped templates, each validated against the registry.

    Raises:
        ValidationFailed: A template is broken; paths start with its file name.
    """
    templates = load_templates()
    problems: list[Problem] = []
    found: dict[RefKey, Found] = {
        (t.id, None, None): (t.graph, None) for t in templates.values()
    }
    for template in templates.values():
        try:
            validate_workflow(
                template.graph,
                registry,
                resolve=resolver(found),
                origin=f"template:{template.id}",
            )
        except ValidationFailed as exc:
            problems.extend(
                Problem(f"templates/{template.id}.json: {p.path}", p.message, p.code)
                for p in exc.problems
            )
    if problems:
        raise ValidationFailed(problems)
    return templates


def scheduler_clock(settings: Settings) -> SchedulerClock:
    """The clock schedules are counted with: the wall clock, or ``AGENT_TEST_CLOCK``'s
    (tests only)."""
    if settings.agent_test_clock:
        log.warning(
            "AGENT_TEST_CLOCK is set: schedules fire by a test clock (%s), not by the "
            "wall clock; unset it outside tests",
            settings.agent_test_clock,
        )
        return ScaledClock.parse(settings.agent_test_clock)
    return SystemClock()


@asynccontextmanager
async def open_services(
    settings: Settings, *, resume: bool | None = None, tracing: Tracing | None = None
) -> AsyncIterator[Services]:
    """Open the database, the registry, the templates, the planner and the runner, and
    make the use cases.

    With ``AGENT_ORCHESTRATOR_ENABLED=false`` the runner is made but not started: it
    neither claims nor runs executions, and the use cases that would run or plan
    anything refuse (`core.errors.ServiceDisabled`).

    Args:
        settings: The configuration.
        resume: Whether this process claims executions nobody holds: new ones
            other processes stored and those of stopped processes. Default: when
            ``AGENT_WORKER_ENABLED`` (a server with workers off then runs no workflow
            at all, not even those it is asked to start: they wait for a worker).
            Given explicitly (the CLI's commands), the process runs what it starts.
        tracing: Spans of starting executions, executions and step attempts
            (`observability.tracing.open_tracing`); None: traces are off. The caller
            shuts it down.
    """
    configure_logging(
        settings.log_level, settings.log_format, secrets=settings.secret_values()
    )
    enabled = settings.agent_orchestrator_enabled
    if not enabled:
        log.warning("AGENT_ORCHESTRATOR_ENABLED is false: %s", DISABLED_MESSAGE)
    run_submitted = True
    if resume is None:
        resume = run_submitted = settings.agent_worker_enabled
    async with AsyncExitStack() as stack:
        database = await stack.enter_async_context(
            create_database(settings.database_url)
        )
        ledger = SqlLedgerStore(database)
        artifacts = SqlArtifactStore(database)
        outbox = SqlOutbox(database)
        registry = create_agent_registry(
            settings, ledger=ledger, artifacts=artifacts, outbox=outbox
        )
        templates = load_checked_templates(registry)
        planner = await stack.enter_async_context(
            open_planner(
                registry,
                templates,
                model=settings.openai,
                max_retries=settings.agent_max_retries,
                fallback=settings.agent_planner_fallback,
            )
        )
        runs = SqlRunStore(database)
        bus = EventBus()
        prometheus = PrometheusMetrics()
        failures = FailureReports(runs, Redactor(settings.secret_values()))
        stack.callback(failures.close)
        runner = Runner(
            runs,
            registry,
            Fanout(bus, prometheus, failures),
            engine_settings(settings, resume=resume, run_submitted=run_submitted),
            tracer=tracing,
        )
        if enabled:
            await stack.enter_async_context(runner)
        hub = await stack.enter_async_context(
            EventHub(runs, bus, runs_here=lambda id_: id_ in runner.active)
        )
        admin = admin_parts(settings, database)
        access = admin.access
        saved = WorkflowStore(database)
        starter = ExecutionStarter(
            runner,
            registry,
            templates,
            enabled=enabled,
            max_steps=settings.agent_max_steps,
            max_foreach_items=settings.agent_max_foreach_items,
            workflows=saved,
            require_approval_for=settings.agent_require_approval_for,
            tracing=tracing,
        )
        schedule_store = ScheduleStore(database)
        clock = scheduler_clock(settings)
        # Schedules fire in the processes that run workflows (serve with workers,
        # and `worker`); every slot once however many there are.
        scheduler = (
            Scheduler(
                schedule_store,
                starter,
                saved,
                clock=clock,
                rescan_s=settings.agent_schedule_rescan_s,
                audit_enabled=settings.agent_audit_enabled,
            )
            if enabled and resume
            else None
        )
        schedules = Schedules(access, schedule_store, starter, saved, clock, scheduler)
        services = Services(
            settings=settings,
            database=database,
            access=access,
            api_keys=admin.api_keys,
            audit=admin.audit,
            metrics=admin.metrics,
            catalogue=Catalogue(access, registry, templates),
            executions=Executions(
                access, starter, runner, runs, ExecutionQueries(database), saved
            ),
            saved_workflows=SavedWorkflows(
                access,
                saved,
                registry,
                max_steps=settings.agent_max_steps,
                templates=templates,
                require_approval_for=settings.agent_require_approval_for,
            ),
            copilot=Copilot(
                access, planner, starter, enabled=enabled, schedules=schedules
            ),
            files=Files(
                access,
                settings.agent_files_dir,
                quota_bytes_per_day=settings.agent_upload_quota_bytes_per_day,
            ),
            artifacts=Artifacts(access, artifacts),
            review=Review(access, ledger),
            approvals=Approvals(
                access,
                SqlApprovalStore(database),
                runner,
                enabled=enabled,
                mail=SmtpServer.from_settings(settings.mail),
                recipients=settings.agent_approval_recipients,
            ),
            schedules=schedules,
            scheduler=scheduler,
            starter=starter,
            runner=runner,
            bus=bus,
            hub=hub,
            runs=runs,
            prometheus=prometheus,
            sockets=KeySockets(settings.agent_ws_max_sockets_per_key),
        )
        async with anyio.create_task_group() as tg:
            await tg.start(
                partial(listen_for_events, on_work=runner.wake),
                database,
                hub.remote_event,
            )
            await tg.start(failures.run)
            await tg.start(
                services.api_keys.watch_sockets,
                services.sockets,
                settings.agent_key_recheck_s,
            )
            if enabled and resume:
                # Expiry, decisions no runner took, e-mail to approvers: the work of
                # long-lived processes (servers and workers), not of the CLI's.
                await tg.start(
                    services.approvals.watch, settings.agent_approval_check_s
                )
            if scheduler is not None:
                await tg.start(scheduler.run)
            freeze_startup_heap()
            try:
                yield services
            finally:
                tg.cancel_scope.cancel()
