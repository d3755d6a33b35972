"""Settings: every environment variable in one place (DESIGN.md "Configuration").

Values come from the environment, then from a ``.env`` file in the working directory,
then from the defaults of the deployment guide. A wrong value stops start-up with a
message that names the variable and the values it accepts.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .core.clocks import ScaledClock
from .core.errors import ConfigurationError
from .core.hosts import parse_allowed

DEFAULT_DATABASE_URL = "sqlite:///agent_orchestrator.db"
DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"
#: What ``AGENT_ENV=production`` turns off unless the variable is set.
_DEVELOPMENT_ONLY = (
    "agent_graphql_introspection",
    "agent_graphql_suggestions",
    "agent_graphiql",
    "agent_graphql_get",
)
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour|day)\s*$", re.IGNORECASE)


def _split(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _default_log_format() -> Literal["json", "console"]:
    # A person at a terminal reads columns; anything else (a container, a file, a
    # log shipper) gets one JSON object a line.
    return "console" if sys.stderr.isatty() else "json"


@dataclass(frozen=True, slots=True)
class ModelSettings:
    """The OpenAI-compatible model that agents and the planner call (``OPENAI_*``).

    Attributes:
        api_key: ``OPENAI_API_KEY``; None: no model is configured.
        base_url: ``OPENAI_BASE_URL``; None: OpenAI's own API.
        model: ``OPENAI_MODEL``.
        timeout_s: The limit of one model call (``AGENT_TIMEOUT_MS``).
    """

    api_key: SecretStr | None = None
    base_url: str | None = None
    model: str = "gpt-4o-mini"
    timeout_s: float = 30.0

    @property
    def configured(self) -> bool:
        """Whether a key is set, so that there is a model to call."""
        return self.api_key is not None

    @property
    def url(self) -> str:
        """The server's address: ``OPENAI_BASE_URL`` or OpenAI's own."""
        return self.base_url or DEFAULT_OPENAI_BASE_URL

    @property
    def host(self) -> str:
        """The host (and port, if given) of the server, for messages."""
        return urlsplit(self.url).netloc or self.url


@dataclass(frozen=True, slots=True)
class MailSettings:
    """Where and how `notification_agent` sends e-mail (``AGENT_SMTP_*``).

    Attributes:
        host: The SMTP server; None: e-mail is not configured.
        port: Its port.
        tls: ``starttls``, ``ssl`` or ``none``.
        sender: The From address; None: e-mail is not configured.
        username: The login, if any.
        password: The password, if any.
        timeout_s: Seconds to wait for the server.
    """

    host: str | None = None
    port: int = 587
    tls: Literal["starttls", "ssl", "none"] = "starttls"
    sender: str | None = None
    username: str | None = None
    password: SecretStr | None = None
    timeout_s: float = 10.0


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    """How `notification_agent` calls webhooks (``AGENT_WEBHOOK_*``).

    Attributes:
        secret: The key of the ``X-Agent-Signature``; None: webhooks are off.
        allowed_hosts: Private hosts or networks webhooks may reach.
    """

    secret: SecretStr | None = None
    allowed_hosts: tuple[str, ...] = ()


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
    # Amplification limits: what one request may make the service do or keep.
    agent_max_steps: int = Field(
        200,
        ge=1,
        le=10_000,
        description="Steps one workflow graph may have, its sub-workflows' steps "
        "counted once per use; an execution's step runs (for-each elements and "
        "their steps included) are bounded by this times AGENT_MAX_FOREACH_ITEMS.",
    )
    agent_max_foreach_items: int = Field(
        1_000,
        ge=1,
        le=100_000,
        description="Elements one for-each step may run; a longer list fails the "
        "step with an error saying so.",
    )
    agent_upload_quota_bytes_per_day: int = Field(
        1024**3,
        ge=0,
        description="Bytes one tenant may upload in 24 hours (0: no uploads).",
    )
    agent_timeout_ms: int = Field(30_000, ge=1, le=86_400_000)
    agent_default_region: str = "eu-west-1"
    agent_api_key_enabled: bool = True
    agent_rbac_enabled: bool = True
    agent_audit_enabled: bool = True
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["json", "console"] = Field(
        default_factory=_default_log_format,
        description="json (one object a line) or console; default json unless "
        "stderr is a terminal.",
    )
    sentry_dsn: str | None = None
    # Traces (OpenTelemetry's own variable names; `observability.tracing`). The
    # exporter reads its other OTEL_EXPORTER_OTLP_* variables (timeout, compression,
    # certificates) and the SDK OTEL_TRACES_SAMPLER* and OTEL_BSP_* from the
    # environment itself.
    otel_exporter_otlp_endpoint: str | None = Field(
        None,
        description="OTLP/HTTP collector base URL (e.g. http://127.0.0.1:4318); "
        "spans go to <it>/v1/traces. Unset (and no traces endpoint): traces are off.",
    )
    otel_exporter_otlp_traces_endpoint: str | None = Field(
        None, description="The full URL spans are sent to; overrides the base URL."
    )
    otel_exporter_otlp_headers: SecretStr | None = Field(
        None,
        description="Headers of the export requests: key=value pairs, comma-separated "
        "(URL-encoded values), e.g. an authorization header.",
    )
    otel_service_name: str = Field(
        "agent-orchestrator", min_length=1, description="The spans' service.name."
    )
    otel_sdk_disabled: bool = Field(False, description="true: no traces at all.")
    agent_cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    agent_rate_limit: str = "600/minute"
    # Failed authentications per client address; over it: 429 before any key lookup.
    agent_auth_failure_limit: str = "20/minute"
    agent_rate_limit_storage: str = Field(
        "memory", description="memory (one process) or redis://host:port/db (shared)"
    )
    agent_files_dir: Path = Path("files")

    # Engine knobs beyond the guide's list.
    agent_retry_initial_ms: int = Field(1_000, ge=0, le=600_000)
    agent_retry_max_ms: int = Field(100_000, ge=0, le=3_600_000)
    # A worker renews its leases every third of this; a process that dies without
    # handing its executions back holds them this long at most.
    agent_lease_seconds: float = Field(10.0, gt=0, le=3_600)
    agent_max_concurrent_executions: int = Field(100, ge=1, le=10_000)
    # At most this many running executions per tenant, across all processes.
    agent_tenant_max_concurrent: int | None = Field(None, ge=1, le=100_000)
    # On SIGTERM, how long attempts under way may take before they are cut off and
    # their executions handed back to the other workers.
    agent_drain_seconds: float = Field(8.0, ge=0, le=3_600)
    # False: `serve` answers the API only; workflows run in `worker` processes.
    agent_worker_enabled: bool = True
    # Schedules: the longest wait between looks for schedules other processes made.
    agent_schedule_rescan_s: float = Field(30.0, gt=0, le=3_600)
    # For tests only: `<ISO time>[,<Unix time>[,<speed>]]` makes schedules see a
    # clock that showed that time at that Unix time and runs `speed` times faster.
    agent_test_clock: str | None = None
    agent_plugins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    agent_allow_insecure_bind: bool = False
    agent_key_recheck_s: float = Field(30.0, gt=0, le=60)
    # Approvals: the policy, who is told, and how often expiry is checked.
    agent_require_approval_for: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Agent ids (comma-separated) that no graph may run without an "
        "approval_agent step before them on every path.",
    )
    agent_approval_recipients: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="E-mail addresses told of every approval request "
        "(comma-separated; needs AGENT_SMTP_HOST and AGENT_SMTP_SENDER).",
    )
    agent_approval_check_s: float = Field(
        5.0,
        gt=0,
        le=3_600,
        description="Seconds between checks for expired approvals and new requests "
        "to announce.",
    )
    # WebSockets: each operation counts against AGENT_RATE_LIMIT like a request; these
    # cap what one key and one socket may hold open.
    agent_ws_max_sockets_per_key: int = Field(
        20, ge=1, le=10_000, description="Open WebSockets per API key and process."
    )
    agent_ws_max_operations: int = Field(
        100, ge=1, le=1_000, description="Operations in flight per WebSocket."
    )
    agent_metrics_interval_s: float = Field(5.0, gt=0, le=3_600)
    # /metrics shows every tenant's counts together: by default an ADMIN key's.
    agent_metrics_public: bool = Field(
        False, description="true: /metrics answers without an API key."
    )
    # The deployment profile: production turns the GraphQL conveniences below off
    # (introspection, field suggestions, GraphiQL) unless each is set explicitly.
    agent_env: Literal["production", "development"] = Field(
        "development",
        description="production hides introspection, suggestions and GraphiQL "
        "unless their variables are set.",
    )
    agent_graphql_introspection: bool = True
    agent_graphql_suggestions: bool = True
    agent_graphiql: bool = Field(
        True, description="The GraphiQL page at /graphql in a browser."
    )
    # Queries over GET (mutations never are): harmless with a key in a header, yet
    # auditors count it as a CSRF surface, so production answers POST only.
    agent_graphql_get: bool = Field(
        True, description="Queries over GET /graphql?query=...; false: POST only."
    )

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
        "agent_require_approval_for",
        "agent_approval_recipients",
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

    @field_validator("agent_test_clock")
    @classmethod
    def _test_clock(cls, value: str | None) -> str | None:
        if value:
            ScaledClock.parse(value)
        return value or None

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("agent_rate_limit", "agent_auth_failure_limit")
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
        "otel_exporter_otlp_endpoint",
        "otel_exporter_otlp_traces_endpoint",
        "otel_exporter_otlp_headers",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("agent_smtp_tls", "log_format", "agent_env", mode="before")
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
    def _profile(self) -> Settings:
        if self.agent_env == "production":
            for name in _DEVELOPMENT_ONLY:
                if name not in self.model_fields_set:
                    setattr(self, name, False)
        return self

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

    @property
    def openai(self) -> ModelSettings:
        """The model settings (``OPENAI_*``, ``AGENT_TIMEOUT_MS``)."""
        return ModelSettings(
            api_key=self.openai_api_key,
            base_url=self.openai_base_url,
            model=self.openai_model,
            timeout_s=self.agent_timeout_ms / 1000,
        )

    @property
    def mail(self) -> MailSettings:
        """The e-mail settings (``AGENT_SMTP_*``)."""
        return MailSettings(
            host=self.agent_smtp_host,
            port=self.agent_smtp_port,
            tls=self.agent_smtp_tls,
            sender=self.agent_smtp_sender,
            username=self.agent_smtp_username,
            password=self.agent_smtp_password,
            timeout_s=self.agent_smtp_timeout_s,
        )

    @property
    def webhooks(self) -> WebhookSettings:
        """The webhook settings (``AGENT_WEBHOOK_*``)."""
        return WebhookSettings(
            secret=self.agent_webhook_secret,
            allowed_hosts=tuple(self.agent_webhook_allowed_hosts),
        )

    @property
    def otlp_traces_endpoint(self) -> str | None:
        """Where spans are sent (``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``, else
        ``OTEL_EXPORTER_OTLP_ENDPOINT`` + ``/v1/traces``, as the OTLP specification
        says); None: traces are off (also when ``OTEL_SDK_DISABLED=true``)."""
        if self.otel_sdk_disabled:
            return None
        if self.otel_exporter_otlp_traces_endpoint:
            return self.otel_exporter_otlp_traces_endpoint
        if self.otel_exporter_otlp_endpoint:
            return self.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
        return None

    def otlp_headers(self) -> dict[str, str]:
        """``OTEL_EXPORTER_OTLP_HEADERS`` as a dict (values URL-decoded)."""
        if self.otel_exporter_otlp_headers is None:
            return {}
        headers = {}
        for pair in self.otel_exporter_otlp_headers.get_secret_value().split(","):
            name, equals, value = pair.partition("=")
            if equals and name.strip():
                headers[unquote(name.strip()).lower()] = unquote(value.strip())
        return headers

    def secret_values(self) -> list[str]:
        """The configured secrets in plain text, for the log redactor: the OpenAI
        key, the SMTP password, the webhook secret, the database password and the
        values of the OTLP export headers."""
        secrets = [
            s.get_secret_value()
            for s in (
                self.openai_api_key,
                self.agent_smtp_password,
                self.agent_webhook_secret,
            )
            if s is not None
        ]
        secrets += self.otlp_headers().values()
        try:
            password = urlsplit(self.database_url).password
        except ValueError:  # a malformed URL is the database's to report
            password = None
        if password:
            # A log line may show the URL as written or the password decoded.
            secrets += [password, unquote(password)]
        return [s for s in dict.fromkeys(secrets) if s]


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
