"""The error tree. Every error we raise on purpose is one of these::

    AgentOrchestratorError                 base of all errors of ours
    ├── ConfigurationError (ValueError)    a setting has a value that cannot be used
    ├── ValidationFailed (ValueError)      input is wrong; carries every Problem found
    ├── NotFound (LookupError)             no such object for the caller's tenant
    ├── Conflict (ValueError)              the request clashes with stored state
    │   └── PlanChanged                    planned again, the plan is not the one seen
    ├── NotStorable (ValueError)           the database refuses a value (NaN, bad text)
    ├── QuotaExceeded                      a tenant used up an allowance (uploads a day)
    ├── Unauthenticated (PermissionError)  no valid API key
    ├── Forbidden (PermissionError)        the key's role may not do this
    ├── RateLimited                        too many requests; says when to retry
    ├── PlanningFailed (ValueError)        the copilot cannot or may not plan a command
    ├── DatabaseUnavailable (ConnectionError)  cannot reach or open the database
    ├── SchemaMismatch (RuntimeError)      schema missing, older or newer than ours
    ├── ServiceDisabled (RuntimeError)     AGENT_ORCHESTRATOR_ENABLED is false
    └── AgentError (RuntimeError)          an agent's run failed; retryable by default
        ├── NonRetryableAgentError         retrying cannot help (bad input, no file)
        │   └── OutputNotStorable          the step's output or event cannot be stored
        └── AgentTimeout (TimeoutError)    one attempt ran over its time limit

The API maps these to `extensions.code`; anything else is unexpected and is masked for
clients and logged in full.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input, where it is and what to do about it.

    Attributes:
        path: Where the problem is, e.g. ``steps[1].inputs.text`` or
            ``variables.period_end``.
        message: What is wrong, naming the offending ids, and how to fix it.
        code: A stable machine-readable kind, e.g. ``unknown_agent`` or ``cycle``.
    """

    path: str
    message: str
    code: str = "invalid"

    def as_dict(self) -> dict[str, str]:
        """The problem as a JSON object."""
        return {"path": self.path, "message": self.message, "code": self.code}

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class AgentOrchestratorError(Exception):
    """Base class of every error the product raises on purpose."""


class ConfigurationError(AgentOrchestratorError, ValueError):
    """A setting has a value that cannot be used; the message names it and what fits."""


class ValidationFailed(AgentOrchestratorError, ValueError):
    """An input (graph, variables, agent input, request body) is wrong.

    Attributes:
        problems: Every problem found, not only the first.
    """

    def __init__(self, problems: Iterable[Problem], summary: str | None = None) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        if summary is None:
            count = len(self.problems)
            listed = "; ".join(str(p) for p in self.problems[:5])
            more = f" (and {count - 5} more)" if count > 5 else ""
            summary = f"{count} problem{'s' if count != 1 else ''}: {listed}{more}"
        super().__init__(summary)


class NotFound(AgentOrchestratorError, LookupError):
    """No such object exists for the caller's tenant (another tenant's ids included)."""


class Conflict(AgentOrchestratorError, ValueError):
    """The request clashes with what is stored, e.g. an idempotency key reused with
    different input."""


class PlanChanged(Conflict):
    """A command run with the fingerprint of the plan its caller saw was planned again
    and came out otherwise; nothing ran. The caller looks at the new plan first.

    Attributes:
        fingerprint: The new plan's fingerprint.
    """

    def __init__(self, message: str, *, fingerprint: str) -> None:
        super().__init__(message)
        self.fingerprint = fingerprint


class NotStorable(AgentOrchestratorError, ValueError):
    """The database cannot store a value: a number JSON cannot hold (NaN, infinity),
    something that is not JSON, or data the database refuses. Storing it again cannot
    succeed; the message says what and where."""


class QuotaExceeded(AgentOrchestratorError):
    """The tenant has used up an allowance (e.g. upload bytes a day); the message says
    which, how much is left and when it frees up."""


class Unauthenticated(AgentOrchestratorError, PermissionError):
    """The request carries no valid API key.

    Attributes:
        tenant_id: The tenant of a stored key that may no longer be used (revoked or
            expired), for the audit entry; None when the key is not ours at all.
    """

    def __init__(self, message: str, *, tenant_id: str | None = None) -> None:
        super().__init__(message)
        self.tenant_id = tenant_id


class Forbidden(AgentOrchestratorError, PermissionError):
    """The caller's role may not do this."""


class RateLimited(AgentOrchestratorError):
    """Too many requests for one key (or failed authentications from one address).

    Attributes:
        retry_after_s: Seconds until a request will be accepted again.
    """

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class PlanningFailed(AgentOrchestratorError, ValueError):
    """The copilot cannot or may not turn a command into a workflow.

    The message speaks the command's language and says what the copilot can do instead.
    """


class ServiceDisabled(AgentOrchestratorError, RuntimeError):
    """The service is switched off (``AGENT_ORCHESTRATOR_ENABLED=false``): nothing
    runs and nothing is planned until it is switched on again."""


class AgentError(AgentOrchestratorError, RuntimeError):
    """An agent's run failed. The engine retries it unless `retryable` is false.

    Attributes:
        retryable: Whether another attempt may succeed.
        code: A stable machine-readable kind for the step's failure event, when the
            class has one.
    """

    retryable: bool = True
    code: str | None = None

    def __init__(self, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(message)
        if retryable is not None:
            self.retryable = retryable


class NonRetryableAgentError(AgentError):
    """An agent failure that another attempt cannot fix (bad input, a missing file)."""

    retryable = False


class OutputNotStorable(NonRetryableAgentError):
    """A step's output (or an event it reported) cannot be stored; running the step
    again would produce it again, so the step fails at once."""

    code = "OUTPUT_NOT_STORABLE"


class AgentTimeout(AgentError, TimeoutError):
    """One attempt of a step ran longer than its time limit."""


class DatabaseUnavailable(AgentOrchestratorError, ConnectionError):
    """The database named by ``DATABASE_URL`` cannot be reached or opened (server down,
    unknown host, no such database, login refused, unreadable SQLite file).

    The message names the database (password hidden), what went wrong and the fix.
    """


class SchemaMismatch(AgentOrchestratorError, RuntimeError):
    """The database's schema is not the one this version works with: not created yet,
    at an older revision (run ``agent-orchestrator migrate``) or at a revision this
    version does not know (a newer version migrated it).

    Attributes:
        current: The database's revision, None when it has no schema.
        head: The revision this version needs.
    """

    def __init__(self, message: str, *, current: str | None, head: str) -> None:
        super().__init__(message)
        self.current = current
        self.head = head
