"""Our error tree on the GraphQL boundary: each domain error becomes a message and an
`extensions.code`; anything unexpected is masked for the client and logged in full
(SECURITY.md: mask only errors that are not ours, so that validation errors still
show)."""

from __future__ import annotations

import logging
import re

from graphql.error import GraphQLError

from ..core.errors import (
    Conflict,
    Forbidden,
    NotFound,
    PlanChanged,
    PlanningFailed,
    QuotaExceeded,
    RateLimited,
    ServiceDisabled,
    Unauthenticated,
    ValidationFailed,
)
from ..service.switch import DISABLED_CODE

log = logging.getLogger("agent_orchestrator.api")
INTERNAL = (
    "Internal server error; it has been logged. Try again, or tell the operators."
)
_SUGGESTION = re.compile(r"\s*Did you mean .*\?$")


def error_code(exc: BaseException) -> str | None:
    """The `extensions.code` of a domain error, None for anything else."""
    for kind, code in (
        (ValidationFailed, "VALIDATION_FAILED"),
        (NotFound, "NOT_FOUND"),
        (Unauthenticated, "UNAUTHENTICATED"),
        (Forbidden, "FORBIDDEN"),
        (RateLimited, "RATE_LIMITED"),
        (QuotaExceeded, "QUOTA_EXCEEDED"),
        (PlanningFailed, "PLANNING_FAILED"),
        (PlanChanged, "PLAN_CHANGED"),
        (Conflict, "CONFLICT"),
        (ServiceDisabled, DISABLED_CODE),
    ):
        if isinstance(exc, kind):
            return code
    return None


def error_extensions(exc: BaseException) -> dict[str, object] | None:
    """The extensions of a domain error (None when it is not ours)."""
    code = error_code(exc)
    if code is None:
        return None
    extensions: dict[str, object] = {"code": code}
    if isinstance(exc, ValidationFailed):
        extensions["problems"] = [p.as_dict() for p in exc.problems]
    if isinstance(exc, RateLimited):
        extensions["retryAfter"] = round(exc.retry_after_s, 3)
    if isinstance(exc, PlanChanged):
        extensions["fingerprint"] = exc.fingerprint
    return extensions


def translate_errors(
    errors: list[GraphQLError], *, hide_suggestions: bool = False
) -> list[GraphQLError]:
    """The errors a client sees: domain errors with their codes, GraphQL's own
    validation errors (without field suggestions when asked), and the rest masked."""
    return [translate(e, hide_suggestions=hide_suggestions) for e in errors]


def translate(error: GraphQLError, *, hide_suggestions: bool = False) -> GraphQLError:
    """One error as `translate_errors` gives it."""
    original = error.original_error
    if original is None:
        message = error.message
        if hide_suggestions:
            message = _SUGGESTION.sub("", message)
        code = (error.extensions or {}).get("code", "GRAPHQL_VALIDATION_FAILED")
        return GraphQLError(
            message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={**(error.extensions or {}), "code": code},
        )
    extensions = error_extensions(original)
    if extensions is not None:
        return GraphQLError(
            str(original),
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions=extensions,
        )
    if isinstance(original, GraphQLError):
        return translate(original, hide_suggestions=hide_suggestions)
    log.error("unexpected error in a GraphQL operation", exc_info=original)
    return GraphQLError(
        INTERNAL,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": "INTERNAL_SERVER_ERROR"},
    )
