"""One payload per event, however many clients follow the run.

Strawberry executes a subscription's selection set for every subscriber and every
event, then encodes and sends the result. For `executionEvents` that work is the same
for everyone who asked for the same fields, so this handler serves the common shape —
one `executionEvents` root field selecting plain fields, no aliases, fragments or
directives — from a shared cache of encoded payloads, after the same rights and
existence checks as the resolver. Every other operation goes through Strawberry as
usual (and any doubt sends it there too).
"""

from __future__ import annotations

import functools
import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import anyio
from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    StringValueNode,
    VariableNode,
    parse,
    validate,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)

from ..core.errors import AgentOrchestratorError, NotFound
from ..core.protocols import ExecutionEvent
from ..engine.hub import Broadcast
from ..schema.context import Context
from ..security.permissions import Permission, require
from .access import key_guard_for
from .errors import error_extensions

if TYPE_CHECKING:
    from .view import GraphQLView

FIELDS = {
    "seq": lambda e: e.seq,
    "type": lambda e: e.type.value,
    "executionId": lambda e: e.execution_id,
    "stepId": lambda e: e.step_id,
    "agentId": lambda e: e.agent_id,
    "attempt": lambda e: e.attempt,
    "at": lambda e: e.at.isoformat(),
    "data": lambda e: dict(e.data),
}


@dataclass(frozen=True)
class Shape:
    """What a fast-path subscription asks for."""

    fields: tuple[str, ...]
    execution_id: str | VariableNode
    after_seq: int | VariableNode | None


@functools.lru_cache(maxsize=256)
def shape_of(query: str, operation_name: str | None) -> Shape | None:
    """The shape of an `executionEvents` subscription this path serves, else None."""
    try:
        document = parse(query, max_tokens=1_000)
    except GraphQLError:
        return None
    operations = [
        d for d in document.definitions if isinstance(d, OperationDefinitionNode)
    ]
    if len(document.definitions) != 1 or len(operations) != 1:
        return None
    operation = operations[0]
    if operation.operation is not OperationType.SUBSCRIPTION or operation.directives:
        return None
    if operation_name is not None and (
        operation.name is None or operation.name.value != operation_name
    ):
        return None
    selections = operation.selection_set.selections
    if len(selections) != 1 or not isinstance(selections[0], FieldNode):
        return None
    root = selections[0]
    if (
        root.name.value != "executionEvents"
        or root.alias
        or root.directives
        or not root.selection_set
    ):
        return None
    fields: list[str] = []
    for node in root.selection_set.selections:
        if (
            not isinstance(node, FieldNode)
            or node.alias
            or node.directives
            or node.arguments
            or node.selection_set
            or node.name.value not in FIELDS
        ):
            return None
        fields.append(node.name.value)
    arguments = {a.name.value: a.value for a in root.arguments}
    if set(arguments) - {"executionId", "afterSeq"} or "executionId" not in arguments:
        return None
    execution = arguments["executionId"]
    after = arguments.get("afterSeq")
    if not isinstance(execution, StringValueNode | VariableNode):
        return None
    if after is not None and not isinstance(after, IntValueNode | VariableNode):
        return None
    return Shape(
        fields=tuple(fields),
        execution_id=execution.value
        if isinstance(execution, StringValueNode)
        else execution,
        after_seq=int(after.value) if isinstance(after, IntValueNode) else after,
    )


@functools.lru_cache(maxsize=256)
def _valid(schema: GraphQLSchema, query: str) -> bool:
    """Whether the document passes the schema's validation (variables' types and all)."""
    return not validate(schema, parse(query, max_tokens=1_000))


class EncodedEvents:
    """Encoded `executionEvents` payloads, one per event and field selection."""

    def __init__(self, size: int = 50_000) -> None:
        self._size = size
        self._cache: OrderedDict[tuple[str, int, tuple[str, ...]], str] = OrderedDict()

    def get(self, event: ExecutionEvent, fields: tuple[str, ...]) -> str:
        """The JSON text of ``{"data": {"executionEvents": {...}}}`` for `event`."""
        key = (event.execution_id, event.seq, fields)
        text = self._cache.get(key)
        if text is None:
            data = {name: FIELDS[name](event) for name in fields}
            text = json.dumps(
                {"data": {"executionEvents": data}}, separators=(",", ":")
            )
            self._cache[key] = text
            if len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return text


class _Gone(Exception):
    """The client stopped the operation; stop delivering to it."""


class EventStreamHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws with the shared-payload path for `executionEvents`."""

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        arguments = self._fast_arguments(operation)
        if arguments is None:
            await super().run_operation(operation)
            return
        shape, execution_id, after_seq = arguments
        context: Context = self.context
        services = context.services
        try:
            principal = context.principal
            require(
                principal, Permission.READ, rbac=services.settings.agent_rbac_enabled
            )
            if not await services.runs.exists(execution_id, principal.tenant_id):
                raise NotFound(f"execution {execution_id} not found")
        except AgentOrchestratorError:
            # Let Strawberry produce the error exactly as for any other operation.
            await super().run_operation(operation)
            return
        encoded: EncodedEvents = cast("GraphQLView", self.view).encoded_events
        broadcast: Broadcast = services.broadcast
        prefix = '{"id":' + json.dumps(operation.id) + ',"type":"next","payload":'
        fields = shape.fields
        send_text = self.websocket.ws.send_text  # type: ignore[attr-defined]

        async def deliver(event: ExecutionEvent) -> None:
            if operation.completed:
                raise _Gone
            await send_text(prefix + encoded.get(event, fields) + "}")

        listener = await broadcast.attach(execution_id, after_seq, deliver)
        check_key = key_guard_for(context)
        try:
            while not listener.done.is_set():
                with anyio.move_on_after(services.settings.agent_key_recheck_s):
                    await listener.done.wait()
                if not listener.done.is_set():
                    await check_key()
        except AgentOrchestratorError as exc:
            error = {"message": str(exc), "extensions": error_extensions(exc) or {}}
            await operation.send_operation_message(
                {
                    "id": operation.id,
                    "type": "next",
                    "payload": {"data": None, "errors": [error]},
                }  # type: ignore[typeddict-item]
            )
        finally:
            broadcast.detach(execution_id, listener)
        if listener.error is not None and not isinstance(listener.error, _Gone):
            raise listener.error
        await operation.send_operation_message({"id": operation.id, "type": "complete"})

    def _fast_arguments(
        self, operation: Operation[Context, None]
    ) -> tuple[Shape, str, int] | None:
        shape = shape_of(operation.query, operation.operation_name)
        if shape is None or not _valid(self.schema._schema, operation.query):
            return None
        variables = operation.variables or {}
        execution_id: Any = shape.execution_id
        if isinstance(execution_id, VariableNode):
            execution_id = variables.get(execution_id.name.value)
        after: Any = shape.after_seq
        if isinstance(after, VariableNode):
            after = variables.get(after.name.value)
        if not isinstance(execution_id, str) or "\x00" in execution_id:
            return None
        if after is None:
            after = 0
        if (
            not isinstance(after, int)
            or isinstance(after, bool)
            or not -(2**31) <= after < 2**31
        ):
            return None
        return shape, execution_id, after
