"""Saved workflows: save (a new one or a new version), delete, read, list."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core.errors import Problem, ValidationFailed
from ..core.graph import parse_graph
from ..core.subworkflows import resolver
from ..core.validation import MAX_STEPS, validate_workflow
from ..security.permissions import Permission
from .subworkflows import SubworkflowSource

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

    from ..core.protocols import AgentCatalogue
    from ..core.records import Page, WorkflowRecord
    from ..core.templates import WorkflowTemplate
    from .access import Access
    from .caller import Caller
    from .stores import WorkflowRepository

MAX_NAME = 200


class SavedWorkflows:
    """The saved-workflow use cases.

    Args:
        access: Rights and the audit trail.
        repository: Where workflows and their versions are kept.
        catalogue: The agents graphs are validated against.
        max_steps: ``AGENT_MAX_STEPS``; graphs with more steps are refused.
        templates: The shipped templates sub-workflow steps may name.
        require_approval_for: ``AGENT_REQUIRE_APPROVAL_FOR``.
    """

    def __init__(
        self,
        access: Access,
        repository: WorkflowRepository,
        catalogue: AgentCatalogue,
        *,
        max_steps: int = MAX_STEPS,
        templates: Mapping[str, WorkflowTemplate] | None = None,
        require_approval_for: Collection[str] = (),
    ) -> None:
        self.access = access
        self.repository = repository
        self.catalogue = catalogue
        self.max_steps = max_steps
        self.subworkflows = SubworkflowSource(templates or {}, repository)
        self.require_approval_for = frozenset(require_approval_for)

    async def save(
        self,
        caller: Caller,
        *,
        name: str,
        graph: Any,
        description: str = "",
        workflow_id: str | None = None,
    ) -> WorkflowRecord:
        """Validate and save a workflow; with `workflow_id`, a new version of it.
        ``workflow.save`` is written in the same transaction.

        Raises:
            Forbidden: The caller may not save workflows.
            ValidationFailed: A bad name, or every problem of the graph (agents above
                the caller's role included).
            NotFound: `workflow_id` is not one of the tenant's workflows.
        """
        action = "workflow.save"
        await self.access.require(
            caller,
            Permission.SAVE_WORKFLOW,
            action,
            resource_type="workflow",
            resource_id=workflow_id,
        )
        async with self.access.attempt(caller, action, "workflow", workflow_id):
            return await self._save(
                caller, action, name, graph, description, workflow_id
            )

    async def _save(
        self,
        caller: Caller,
        action: str,
        name: str,
        graph: Any,
        description: str,
        workflow_id: str | None,
    ) -> WorkflowRecord:
        name = name.strip()
        if not 1 <= len(name) <= MAX_NAME:
            raise ValidationFailed(
                [Problem("input.name", f"give a name of 1 to {MAX_NAME} characters")]
            )
        if not isinstance(graph, dict):
            raise ValidationFailed([Problem("input.graph", "must be a JSON object")])
        parsed = parse_graph(graph)
        found = await self.subworkflows.collect(parsed, caller.tenant_id)
        # Saved with its sub-workflows by name: one without a version runs the
        # latest saved version of that workflow each time.
        valid = validate_workflow(
            parsed,
            self.catalogue,
            role=self.access.role(caller),
            max_steps=self.max_steps,
            resolve=resolver(found),
            origin=f"workflow:{workflow_id}" if workflow_id else None,
            require_approval_for=self.require_approval_for,
        )
        async with self.access.owned(caller, action, "workflow", workflow_id):
            return await self.repository.save(
                tenant_id=caller.tenant_id,
                name=name,
                description=description,
                graph=valid.to_document(),
                created_by=caller.actor,
                workflow_id=workflow_id,
                audit=self.access.entry(
                    caller, action, resource_type="workflow", details={"name": name}
                ),
            )

    async def delete(self, caller: Caller, workflow_id: str) -> None:
        """Delete a workflow (its versions stay for the executions that ran them);
        ``workflow.delete`` is written in the same transaction.

        Raises:
            Forbidden: The caller may not delete workflows.
            NotFound: The tenant has no such workflow.
        """
        action = "workflow.delete"
        async with self.access.guarded(
            caller, Permission.DELETE_WORKFLOW, action, "workflow", workflow_id
        ):
            await self.repository.delete(
                workflow_id,
                caller.tenant_id,
                audit=self.access.entry(
                    caller, action, resource_type="workflow", resource_id=workflow_id
                ),
            )

    async def get(
        self, caller: Caller, workflow_id: str, version: int | None = None
    ) -> WorkflowRecord:
        """A workflow at its current or a given version.

        Raises:
            NotFound: The tenant has no such workflow or version.
        """
        async with self.access.reading(caller, "workflow", workflow_id):
            return await self.repository.get(workflow_id, caller.tenant_id, version)

    async def versions(self, caller: Caller, workflow_id: str) -> list[WorkflowRecord]:
        """Every saved version of a workflow, oldest first.

        Raises:
            NotFound: The tenant has no such workflow.
        """
        async with self.access.reading(caller, "workflow", workflow_id):
            return await self.repository.versions(workflow_id, caller.tenant_id)

    async def page(
        self, caller: Caller, *, first: int = 20, after: str | None = None
    ) -> Page[WorkflowRecord]:
        """The tenant's workflows, most recently changed first."""
        await self.access.require(
            caller, Permission.READ, "workflow.list", resource_type="workflow"
        )
        return await self.repository.page(caller.tenant_id, first=first, after=after)
