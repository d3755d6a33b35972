"""Sentry: unexpected errors go there in full (clients see a masked message)."""

from __future__ import annotations

from .. import __version__


def configure_sentry(dsn: str | None, *, environment: str | None = None) -> bool:
    """Start sending errors to `dsn`; False (and nothing sent) without one."""
    if not dsn:
        return False
    # Imported only when a DSN is set: the SDK and its integrations take over half a
    # second to import.
    import sentry_sdk
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
    return True
