"""Sentry: unexpected errors go there in full (clients see a masked message), and one
event for each execution that ends FAILED (`observability.failures`)."""

from __future__ import annotations

import sys

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


def sentry_started() -> bool:
    """Whether `configure_sentry` started the SDK in this process (without importing
    it otherwise: the import alone costs time)."""
    sdk = sys.modules.get("sentry_sdk")
    return sdk is not None and bool(sdk.is_initialized())


def report_problem(message: str, *, tags: dict[str, str] | None = None) -> None:
    """Send a problem that is no exception (e.g. a schedule that could not fire) to
    Sentry as an error event; nothing when Sentry is not configured."""
    if not sentry_started():
        return
    import sentry_sdk

    with sentry_sdk.new_scope() as scope:
        for key, value in (tags or {}).items():
            scope.set_tag(key, value)
        sentry_sdk.capture_message(message, level="error")
