"""Limits checked on a parsed document before GraphQL validates it.

GraphQL's validation rules run side by side over the whole document and each reports
every offence it finds: 500 copies of an unknown directive (``__typename @aa@aa...``)
make 500 errors, and 500 copies of one field make the overlapping-fields rule compare
every pair of them (about 80 ms a document on this machine). Both are cheap to send and
dear to answer (OWASP GraphQL cheat sheet, "DoS"; graphql-cop's directive overloading
and field duplication checks). So a document is counted first, and one over a limit is
refused with one error, without validating it: too many directives, a directive
repeated in one place (only a ``repeatable`` one may be, spec §5.7.3), or one field
named too often in one selection set.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from graphql import FieldNode, SelectionSetNode, visit
from graphql.error import GraphQLError
from graphql.language import Visitor

if TYPE_CHECKING:
    from graphql import DocumentNode, GraphQLSchema, Node

#: Directives in one document (graphql-armor's default for its max-directives rule).
MAX_DIRECTIVES = 50
#: Times one selection set may name the same field (same response key); GraphQL
#: merges the copies into one answer, so a client needs one.
MAX_FIELD_REPEATS = 10
CODE = "GRAPHQL_VALIDATION_FAILED"


class _Census(Visitor):
    """The document's directives, the directive most repeated in one place (of those
    that may not repeat), and the field a selection set repeats most."""

    def __init__(self, repeatable: frozenset[str]) -> None:
        super().__init__()
        self.repeatable = repeatable
        self.directives = 0
        self.directive_repeats = 1
        self.repeated_directive = ""
        self.repeats = 0
        self.repeated = ""

    def enter(self, node: Node, *_: Any) -> None:
        directives = getattr(node, "directives", None)
        if directives:
            self.directives += len(directives)
            if len(directives) > 1:
                self._count_directives(Counter(d.name.value for d in directives))
        if isinstance(node, SelectionSetNode):
            self._count_fields(node)

    def _count_directives(self, names: Counter[str]) -> None:
        for name, count in names.items():
            if count > self.directive_repeats and name not in self.repeatable:
                self.directive_repeats, self.repeated_directive = count, name

    def _count_fields(self, node: SelectionSetNode) -> None:
        keys = Counter(
            (selection.alias or selection.name).value
            for selection in node.selections
            if isinstance(selection, FieldNode)
        )
        if keys:
            key, count = keys.most_common(1)[0]
            if count > self.repeats:
                self.repeats, self.repeated = count, key


def document_refusal(
    schema: GraphQLSchema, document: DocumentNode
) -> GraphQLError | None:
    """The error that refuses a document over a limit, None when it is within them."""
    census = _Census(frozenset(d.name for d in schema.directives if d.is_repeatable))
    visit(document, census)
    if census.directives > MAX_DIRECTIVES:
        return GraphQLError(
            f"too many directives ({census.directives} > {MAX_DIRECTIVES}): a "
            f"document may carry at most {MAX_DIRECTIVES}",
            extensions={"code": CODE},
        )
    if census.repeated_directive:
        return GraphQLError(
            f"directive '@{census.repeated_directive}' is used "
            f"{census.directive_repeats} times in one place: use it once",
            extensions={"code": CODE},
        )
    if census.repeats > MAX_FIELD_REPEATS:
        return GraphQLError(
            f"field '{census.repeated}' is selected {census.repeats} times in one "
            f"selection set (at most {MAX_FIELD_REPEATS}): select it once",
            extensions={"code": CODE},
        )
    return None
