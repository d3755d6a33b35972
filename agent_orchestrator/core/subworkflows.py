"""Sub-workflow references: finding them in a graph and pinning them.

A sub-workflow step names a template or a saved workflow (DESIGN.md "Workflow graph").
The service looks the named graphs up (`collect` in the service layer) and hands the
validator a resolver over what it found; once the graph is valid, `pin` stores the
resolved graphs inside it, so that the execution (and any resume of it) runs exactly
what it was started with, whatever is saved later.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from .graph import WorkflowGraph, WorkflowRef
    from .validation import SubworkflowResolver

#: Where a referenced graph is looked up: (template, workflow_id, version).
RefKey: TypeAlias = tuple[str | None, str | None, int | None]
#: What a lookup found: the graph and the saved version (None for a template), or a
#: message saying why nothing was found.
Found: TypeAlias = "tuple[WorkflowGraph, int | None] | str"


def ref_key(ref: WorkflowRef) -> RefKey:
    """The lookup key of a reference (a pinned version is part of it)."""
    return (ref.template, ref.workflow_id, ref.version)


def references(graph: WorkflowGraph) -> Iterator[WorkflowRef]:
    """Every sub-workflow reference of `graph` to a template or saved workflow, those
    inside inline graphs too (not those inside the graphs references name)."""
    for step in graph.steps:
        ref = step.workflow
        if ref is None:
            continue
        if ref.key is not None:
            yield ref
        elif ref.graph is not None:
            yield from references(ref.graph)


def resolver(found: Mapping[RefKey, Found]) -> SubworkflowResolver:
    """A validator's resolver over what was looked up."""

    def resolve(ref: WorkflowRef) -> WorkflowGraph | str:
        hit = found.get(ref_key(ref))
        if hit is None:
            return f"{ref.describe()} was not looked up"
        return hit if isinstance(hit, str) else hit[0]

    return resolve


def pin(graph: WorkflowGraph, found: Mapping[RefKey, Found]) -> WorkflowGraph:
    """`graph` with every sub-workflow reference carrying its resolved graph and, for
    a saved workflow, the version it resolved to. Call it on a validated graph.

    Raises:
        KeyError: A reference was not looked up (the graph was not validated with
            `found`).
    """
    steps = []
    for step in graph.steps:
        ref = step.workflow
        if ref is None:
            steps.append(step)
            continue
        if ref.key is None and ref.graph is not None:
            pinned = ref.model_copy(update={"graph": pin(ref.graph, found)})
        else:
            hit = found[ref_key(ref)]
            if isinstance(hit, str):
                raise KeyError(hit)
            sub, version = hit
            pinned = ref.model_copy(
                update={"graph": pin(sub, found), "version": version}
            )
        steps.append(step.model_copy(update={"workflow": pinned}))
    return graph.model_copy(update={"steps": steps})
