"""Settings: every environment variable in one place (DESIGN.md "Configuration").

Values come from the environment, then from a ``.env`` file in the working directory,
then from the defaults of the deployment guide. A wrong value stops start-up with a
message that names the variable and the values it accepts.
"""

from __future__ import annotations

import re
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .core.errors import ConfigurationError
from .core.hosts import parse_allowed

DEFAULT_DATABASE_URL = "sqlite:///agent_orchestrator.db"
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour|day)\s*$", re.IGNORECASE)


def _split(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """The service's configuration; field names are the lower-cased variable names."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    database_url: str = Field(
        DEFAULT_DATABASE_URL, description="SQLite file (default) or PostgreSQL URL."
    )
    openai_api_key: SecretStr | None = Field(
        None, description="Enables the OpenAI planner."
    )
    openai_base_url: str | None = Field(
        None, description="Any OpenAI-compatible server."
    )
    openai_model: str = Field("gpt-4o-mini", min_length=1)
    agent_planner_fallback: bool = Field(
        True, description="The offline planner answers when the model fails."
    )
    agent_orchestrator_enabled: bool = Field(
        True,
        description="Master switch: false runs and plans nothing; /health says "
        "disabled and every other request is answered 503.",
    )
    agent_max_retries: int = Field(3, ge=0, le=20)
    agent_timeout_ms: int = Field(30_000, ge=1, le=86_400_000)
    agent_default_region: str = "eu-west-1"
    agent_api_key_enabled: bool = True
    agent_rbac_enabled: bool = True
    agent_audit_enabled: bool = True
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    sentry_dsn: str | None = None
    agent_cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    agent_rate_limit: str = "600/minute"
    agent_rate_limit_storage: str = Field(
        "memory", description="memory (one process) or redis://host:port/db (shared)"
    )
    agent_files_dir: Path = Path("files")

    # Engine knobs beyond the guide's list.
    agent_retry_initial_ms: int = Field(1_000, ge=0, le=600_000)
    agent_retry_max_ms: int = Field(100_000, ge=0, le=3_600_000)
    agent_lease_seconds: float = Field(30.0, gt=0, le=3_600)
    agent_max_concurrent_executions: int = Field(100, ge=1, le=10_000)
    agent_worker_enabled: bool = True
    agent_plugins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    agent_allow_insecure_bind: bool = False
    agent_key_recheck_s: float = Field(30.0, gt=0, le=60)
    agent_metrics_interval_s: float = Field(5.0, gt=0, le=3_600)
    agent_graphql_introspection: bool = True
    agent_graphql_suggestions: bool = True

    # E-mail and webhooks of notification_agent.
    agent_smtp_host: str | None = Field(
        None, description="SMTP server; unset: e-mail is not configured."
    )
    agent_smtp_port: int = Field(587, ge=1, le=65_535, description="SMTP port.")
    agent_smtp_tls: Literal["starttls", "ssl", "none"] = Field(
        "starttls", description="starttls (port 587), ssl (465) or none (local relay)."
    )
    agent_smtp_username: str | None = Field(None, description="SMTP login, if any.")
    agent_smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    agent_smtp_sender: str | None = Field(
        None, description="From, e.g. Agent Orchestrator <noreply@example.fi>."
    )
    agent_smtp_timeout_s: float = Field(
        10.0, gt=0, le=300, description="Seconds to wait for the SMTP server."
    )
    agent_webhook_secret: SecretStr | None = Field(
        None, description="Key of the webhooks' X-Agent-Signature (HMAC-SHA256)."
    )
    agent_webhook_allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description=(
            "Private hosts or networks webhooks may reach, comma-separated "
            "(127.0.0.1,10.0.0.0/8,hooks.internal); public addresses need no entry."
        ),
    )

    @field_validator(
        "agent_cors_origins",
        "agent_plugins",
        "agent_webhook_allowed_hosts",
        mode="before",
    )
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        return _split(value)

    @field_validator("agent_webhook_allowed_hosts")
    @classmethod
    def _hosts(cls, value: list[str]) -> list[str]:
        parse_allowed(value)
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("agent_rate_limit")
    @classmethod
    def _rate(cls, value: str) -> str:
        if not _RATE.match(value):
            raise ValueError("use COUNT/PERIOD with PERIOD second, minute, hour or day")
        return value.strip().lower().replace(" ", "")

    @field_validator(
        "openai_api_key",
        "sentry_dsn",
        "openai_base_url",
        "agent_smtp_host",
        "agent_smtp_username",
        "agent_smtp_password",
        "agent_smtp_sender",
        "agent_webhook_secret",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("agent_smtp_tls", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("agent_smtp_sender")
    @classmethod
    def _sender(cls, value: str | None) -> str | None:
        if value is not None and "@" not in parseaddr(value)[1]:
            raise ValueError("give an address: Agent Orchestrator <noreply@example.fi>")
        return value

    @model_validator(mode="after")
    def _cors(self) -> Settings:
        # Starlette reflects any origin with credentials when "*" is listed
        # (SECURITY.md): the allow list must be explicit.
        if "*" in self.agent_cors_origins:
            raise ValueError("AGENT_CORS_ORIGINS must list origins; '*' is not allowed")
        return self

    @field_validator("agent_rate_limit_storage")
    @classmethod
    def _storage(cls, value: str) -> str:
        value = value.strip()
        if value != "memory" and not value.startswith(("redis://", "rediss://")):
            raise ValueError("use memory, or redis://host:port/db to share the limit")
        return value

    @property
    def rate_limit(self) -> tuple[int, str]:
        """``AGENT_RATE_LIMIT`` as (count, period)."""
        match = _RATE.match(self.agent_rate_limit)
        assert match is not None
        return int(match.group(1)), match.group(2).lower()

    @property
    def is_sqlite(self) -> bool:
        """True when the database is the embedded SQLite file."""
        return self.database_url.startswith("sqlite")


_ACCEPTED = {
    "bool_parsing": "true or false",
    "int_parsing": "a whole number",
    "float_parsing": "a number",
    "literal_error": None,
}


def load_settings(**overrides: Any) -> Settings:
    """Read the settings from the environment and ``.env``.

    Raises:
        ConfigurationError: Naming each wrong variable and what it accepts.
    """
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for error in exc.errors(include_url=False):
            name = str(error["loc"][0]).upper() if error["loc"] else "settings"
            accepted = _ACCEPTED.get(error["type"])
            message = error["msg"].removeprefix("Value error, ")
            got = error.get("input")
            detail = f"expected {accepted}" if accepted else message
            lines.append(f"{name}={got!r}: {detail}")
        raise ConfigurationError("invalid configuration: " + "; ".join(lines)) from None
