"""The GraphQL schema: root types assembled from per-entity parts, with the limits of
SECURITY.md (depth 10, aliases 15, tokens 1,000) and the error translation."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

import strawberry
from graphql.error import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig

from ..schema.scalars import SCALAR_MAP
from .agents import AgentQuery
from .artifacts import ArtifactQuery
from .copilot import CopilotMutation, CopilotQuery
from .errors import TranslateErrors, error_code
from .executions import ExecutionMutation, ExecutionQuery, ExecutionSubscription
from .metrics import MetricsQuery, MetricsSubscription
from .security import SecurityMutation, SecurityQuery
from .workflows import WorkflowMutation, WorkflowQuery

log = logging.getLogger("agent_orchestrator.api")
MAX_DEPTH = 10
MAX_ALIASES = 15
MAX_TOKENS = 1_000


@strawberry.type
class Query(
    AgentQuery,
    ExecutionQuery,
    WorkflowQuery,
    MetricsQuery,
    SecurityQuery,
    CopilotQuery,
    ArtifactQuery,
):
    """Everything readable."""


@strawberry.type
class Mutation(ExecutionMutation, WorkflowMutation, SecurityMutation, CopilotMutation):
    """Everything that changes state."""


@strawberry.type
class Subscription(ExecutionSubscription, MetricsSubscription):
    """Live streams over WebSocket (graphql-transport-ws)."""


class Schema(strawberry.Schema):
    """Logs only unexpected errors: ours are answers, not incidents."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: Any = None
    ) -> None:
        for error in errors:
            original = error.original_error
            if original is not None and error_code(original) is None:
                log.error("GraphQL operation failed", exc_info=original)


def create_schema(*, introspection: bool = True, suggestions: bool = True) -> Schema:
    """The schema with its limits; introspection and field suggestions can be switched
    off for production."""
    # Factories, not instances: a fresh extension per operation (SECURITY.md). The
    # limit rules are made once, so that the validation cache recognises them and a
    # document already checked is not walked again.
    limits = [
        *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
        *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
    ]
    if not introspection:
        limits.append(NoSchemaIntrospectionCustomRule)
    extensions: list[Callable[[], SchemaExtension]] = [
        partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
        partial(AddValidationRules, limits),
        # Parsing and validating the same document again costs more than running it.
        partial(ParserCache, maxsize=512),
        partial(ValidationCache, maxsize=512),
        partial(TranslateErrors, hide_suggestions=not suggestions),
    ]
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(
            scalar_map=SCALAR_MAP, disable_field_suggestions=not suggestions
        ),
    )
