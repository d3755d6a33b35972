"""Looking up the templates and saved workflows a graph runs as sub-workflows, for the
validator and for pinning (`core.subworkflows`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.errors import NotFound, ValidationFailed
from ..core.graph import WorkflowGraph, WorkflowRef, parse_graph
from ..core.subworkflows import Found, RefKey, ref_key, references
from ..core.validation import MAX_DEPTH

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ..core.templates import WorkflowTemplate
    from .stores import WorkflowRepository

#: Graphs one request may make the service look up (a bound on its work).
MAX_LOOKUPS = 50


class SubworkflowSource:
    """Finds the graphs sub-workflow steps name.

    Args:
        templates: The shipped templates by id.
        workflows: The saved workflows (None: only templates can be named).
    """

    def __init__(
        self,
        templates: Mapping[str, WorkflowTemplate],
        workflows: WorkflowRepository | None = None,
    ) -> None:
        self.templates = templates
        self.workflows = workflows

    async def collect(
        self, graph: WorkflowGraph, tenant_id: str
    ) -> dict[RefKey, Found]:
        """Every graph `graph` names, directly or through the graphs it names (as deep
        as sub-workflows may nest, each looked up once), or why it cannot be had."""
        found: dict[RefKey, Found] = {}
        level = list(references(graph))
        for _ in range(MAX_DEPTH):
            following: list[WorkflowRef] = []
            for ref in level:
                key = ref_key(ref)
                if key in found:
                    continue
                if len(found) >= MAX_LOOKUPS:
                    found[key] = (
                        f"{ref.describe()} is one sub-workflow too many: at most "
                        f"{MAX_LOOKUPS} templates and saved workflows per request"
                    )
                    continue
                found[key] = hit = await self._look_up(
                    ref.template, ref.workflow_id, ref.version, tenant_id
                )
                if not isinstance(hit, str):
                    following.extend(references(hit[0]))
            level = following
        return found

    async def _look_up(
        self,
        template_id: str | None,
        workflow_id: str | None,
        version: int | None,
        tenant_id: str,
    ) -> Found:
        if template_id is not None:
            template = self.templates.get(template_id)
            if template is None:
                known = ", ".join(sorted(self.templates)) or "none"
                return f"template '{template_id}' not found; templates: {known}"
            return template.graph, None
        assert workflow_id is not None
        if self.workflows is None:
            return f"saved workflow '{workflow_id}' cannot be looked up here"
        try:
            saved = await self.workflows.get(workflow_id, tenant_id, version)
        except NotFound:
            which = "" if version is None else f" version {version}"
            return f"saved workflow '{workflow_id}'{which} not found"
        try:
            return parse_graph(saved.graph), saved.version
        except ValidationFailed:
            return f"saved workflow '{workflow_id}' no longer reads as a workflow"
