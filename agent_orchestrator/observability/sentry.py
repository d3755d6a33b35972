"""Sentry: unexpected errors go there in full (clients see a masked message), and one
event for each execution that ends FAILED (`observability.failures`)."""

from __future__ import annotations

from .. import __version__


def configure_sentry(dsn: str | None, *, environment: str | None = None) -> bool:
    """Start sending errors to `dsn`; False (and nothing sent) without one."""
    if not dsn:
        return False
    # Imported only when a DSN is set: the SDK and its integrations take over half a
    # second to import.
    import sentry_sdk
    from sentry_sdk.integrations.logging import ignore_logger
    from sentry_sdk.integrations.starlette import StarletteIntegration
    from sentry_sdk.integrations.strawberry import StrawberryIntegration

    sentry_sdk.init(
        dsn=dsn,
        release=f"agent-orchestrator@{__version__}",
        environment=environment,
        integrations=[
            StarletteIntegration(),
            StrawberryIntegration(async_execution=True),
        ],
        send_default_pii=False,
        traces_sample_rate=0.0,
    )
    # An agent's failed attempt is no event of its own: the execution that fails for
    # good is, with its attempts as breadcrumbs (`observability.failures`).
    ignore_logger("agent_orchestrator.agents.*")
    return True


def report_problem(message: str, *, tags: dict[str, str] | None = None) -> None:
    """Send a problem that is no exception (e.g. a schedule that could not fire) to
    Sentry as an error event; nothing when Sentry is not configured."""
    import sys

    # Only when the SDK was started (`configure_sentry`): importing it costs time.
    sentry_sdk = sys.modules.get("sentry_sdk")
    if sentry_sdk is None or not sentry_sdk.is_initialized():
        return
    with sentry_sdk.new_scope() as scope:
        for key, value in (tags or {}).items():
            scope.set_tag(key, value)
        sentry_sdk.capture_message(message, level="error")
