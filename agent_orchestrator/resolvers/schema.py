"""The GraphQL schema: root types assembled from per-entity parts, with the limits of
SECURITY.md (depth 10, aliases 15, tokens 1,000) and the error translation.

Strawberry makes every extension anew for each operation and walks each one's hooks at
every step (and for every event of a subscription), so the limits, the validation
cache and the error translation share one extension, `OperationGuard`; with the parser
cache that makes two, as many as a bare Strawberry app with both caches has. The
document limits of `limits` (directives, repeated fields) run before validation, in the
same cache.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from functools import lru_cache, partial
from typing import Any

import strawberry
from graphql import ASTValidationRule, DocumentNode, GraphQLSchema
from graphql import ExecutionResult as CoreResult
from graphql.error import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    MaxAliasesLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionResult, StreamExecutionResult
from strawberry.types.scalar import ScalarDefinition

from ..schema.scalars import SCALAR_MAP
from .agents import AgentQuery
from .approvals import ApprovalMutation, ApprovalQuery
from .artifacts import ArtifactQuery
from .copilot import CopilotMutation, CopilotQuery
from .errors import error_code, translate_errors
from .executions import ExecutionMutation, ExecutionQuery, ExecutionSubscription
from .limits import document_refusal
from .metrics import MetricsQuery, MetricsSubscription
from .review import ReviewMutation, ReviewQuery
from .schedules import ScheduleMutation, ScheduleQuery
from .security import SecurityMutation, SecurityQuery
from .workflows import WorkflowMutation, WorkflowQuery

log = logging.getLogger("agent_orchestrator.api")
MAX_DEPTH = 10
MAX_ALIASES = 15
MAX_TOKENS = 1_000
#: Documents kept parsed and validated (shared by every operation of the process).
DOCUMENT_CACHE = 512


@strawberry.type
class Query(
    AgentQuery,
    ExecutionQuery,
    WorkflowQuery,
    MetricsQuery,
    SecurityQuery,
    CopilotQuery,
    ArtifactQuery,
    ReviewQuery,
    ApprovalQuery,
    ScheduleQuery,
):
    """Everything readable."""


@strawberry.type
class Mutation(
    ExecutionMutation,
    WorkflowMutation,
    SecurityMutation,
    CopilotMutation,
    ReviewMutation,
    ApprovalMutation,
    ScheduleMutation,
):
    """Everything that changes state."""


@strawberry.type
class Subscription(ExecutionSubscription, MetricsSubscription):
    """Live streams over WebSocket (graphql-transport-ws)."""


@lru_cache(maxsize=DOCUMENT_CACHE)
def _validate(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: tuple[type[ASTValidationRule], ...],
) -> list[GraphQLError]:
    """The document's limits, then (within them) GraphQL's validation with `rules`."""
    refusal = document_refusal(schema, document)
    if refusal is not None:
        return [refusal]
    return validate_document(schema, document, rules)


class OperationGuard(SchemaExtension):
    """Every operation's rules: the token cap when parsing; the directive and
    repeated-field limits, then the depth and alias limits (and no introspection, when
    so configured) when validating, with results cached; and our error translation on
    every result, streamed ones included.

    Args:
        rules: Validation rules added to GraphQL's own (made once, so that the
            validation cache recognises them).
        hide_suggestions: Strip "Did you mean ...?" from validation messages.
    """

    def __init__(
        self,
        rules: tuple[type[ASTValidationRule], ...],
        *,
        hide_suggestions: bool = False,
    ) -> None:
        self.rules = rules
        self.hide_suggestions = hide_suggestions
        self._streamed = False

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = MAX_TOKENS
        context.validation_rules = (*context.validation_rules, *self.rules)
        yield
        # A stream's results were translated one by one (`on_stream_result`).
        # (graphql-core's result before Strawberry wraps it, or Strawberry's own.)
        if not self._streamed and isinstance(
            context.result, CoreResult | ExecutionResult
        ):
            self._translate(context.result)

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None
        context.pre_execution_errors = _validate(
            context.schema._schema, context.graphql_document, context.validation_rules
        )
        yield

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        self._streamed = True
        if isinstance(result, ExecutionResult):
            self._translate(result)
        yield

    def _translate(self, result: CoreResult | ExecutionResult) -> None:
        if result.errors:
            result.errors = translate_errors(
                result.errors, hide_suggestions=self.hide_suggestions
            )


class Schema(strawberry.Schema):
    """Logs only unexpected errors: ours are answers, not incidents."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: Any = None
    ) -> None:
        for error in errors:
            original = error.original_error
            # A GraphQLError underneath is an input refused while it was coerced
            # (e.g. by a scalar): the client's mistake, answered as such.
            if (
                original is not None
                and not isinstance(original, GraphQLError)
                and error_code(original) is None
            ):
                log.error("GraphQL operation failed", exc_info=original)


def create_schema(
    *, introspection: bool = True, suggestions: bool = True, traced: bool = False
) -> Schema:
    """The schema with its limits; introspection and field suggestions can be switched
    off for production; `traced` names each HTTP request's span after its operation
    (`resolvers.tracing`; only when traces are on: an extension costs every
    operation)."""
    rules: list[type[ASTValidationRule]] = [
        *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
        *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
    ]
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    # Factories, not instances: a fresh extension per operation (SECURITY.md).
    extensions: list[Callable[[], SchemaExtension]] = [
        # Parsing and validating the same document again costs more than running it.
        partial(ParserCache, maxsize=DOCUMENT_CACHE),
        partial(OperationGuard, tuple(rules), hide_suggestions=not suggestions),
    ]
    if traced:
        from .tracing import OperationSpanName

        extensions.append(OperationSpanName)
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(
            # Strawberry's map is keyed by `object` (and a dict's keys are invariant).
            scalar_map=dict[object, ScalarDefinition](SCALAR_MAP.items()),
            disable_field_suggestions=not suggestions,
        ),
    )
