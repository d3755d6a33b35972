"""The HTTP request's span named after the GraphQL operation it carries
(`observability.request_spans.name_graphql_operation`); in the schema only when
traces are on."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import FieldNode, get_operation_ast
from strawberry.extensions import SchemaExtension

from ..observability.request_spans import name_graphql_operation


class OperationSpanName(SchemaExtension):
    """Names the request's span ``<type> <operation name>`` (or ``<type> <root
    fields>`` when the operation has no name) once the document is parsed, also when
    it then fails validation; a document that does not parse leaves the route's
    name."""

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context
        if context.graphql_document is None:
            return
        operation = get_operation_ast(context.graphql_document, context.operation_name)
        if operation is None:
            return
        fields = [
            selection.name.value
            for selection in operation.selection_set.selections
            if isinstance(selection, FieldNode)
        ]
        name_graphql_operation(
            operation.operation.value,
            operation.name.value if operation.name else None,
            fields,
        )
