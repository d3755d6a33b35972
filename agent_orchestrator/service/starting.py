"""Starting an execution: pick the graph, validate it with the caller's role and
variables, freeze it into a new execution and hand it to the runner.

This is the building block of the use cases that start executions
(`Executions.start`, `Copilot.execute`, schedules); it checks no rights and writes no
audit entry of its own (the request carries the entry the new execution's transaction
writes). When traces are on, an execution is stored inside a span whose W3C context it
keeps in its metadata, so that the engine's spans join that trace wherever and
whenever they run (`observability.spans`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..core.enums import Role
from ..core.errors import NotFound, Problem, ValidationFailed
from ..core.graph import WorkflowGraph, parse_graph
from ..core.ids import new_id
from ..core.protocols import AgentCatalogue, ExecutionRecord, NewExecution
from ..core.records import AuditEntry
from ..core.subworkflows import pin, resolver
from ..core.validation import (
    MAX_FOREACH_ITEMS,
    MAX_STEPS,
    resolve_variables,
    validate_workflow,
)
from .subworkflows import SubworkflowSource
from .switch import ensure_enabled

if TYPE_CHECKING:
    from ..core.graph import WorkflowGraph
    from ..core.templates import WorkflowTemplate
    from ..engine.runner import Runner
    from ..observability.spans import Tracing
    from .stores import WorkflowRepository

MAX_IDEMPOTENCY_KEY = 200


@dataclass(frozen=True)
class ExecuteRequest:
    """What to start: a template, or a graph (ad hoc or a saved workflow's).

    Attributes:
        tenant_id: Whose execution it is.
        template_id: A shipped template's id, or None when `graph` is given.
        graph: A workflow document, or None when `template_id` is given.
        variables: Initial variable values.
        idempotency_key: The same key with the same request returns the same execution.
        workflow_id: The saved workflow the graph came from, if any.
        workflow_version: Its version.
        actor: The API key id (or ``cli``) that asked.
        role: The caller's role; agents above it are refused.
        metadata: Kept with the execution (e.g. the copilot's command and plan).
        made_from_template: The template a given `graph` was made from (the copilot's
            plan adds steps to one); recorded as the execution's template so that
            filtering executions by template finds it.
        audit: Written in the same transaction as the new execution.
    """

    tenant_id: str
    template_id: str | None = None
    graph: Mapping[str, Any] | None = None
    variables: Mapping[str, Any] = field(default_factory=dict)
    idempotency_key: str | None = None
    workflow_id: str | None = None
    workflow_version: int | None = None
    actor: str | None = None
    role: Role | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    audit: AuditEntry | None = None
    made_from_template: str | None = None


def idempotency_key_problems(key: str | None, path: str) -> list[Problem]:
    """What is wrong with an idempotency key (nothing for None)."""
    if key is None or 1 <= len(key) <= MAX_IDEMPOTENCY_KEY:
        return []
    return [
        Problem(path, f"must be 1 to {MAX_IDEMPOTENCY_KEY} characters", "bad_request")
    ]


def find_template(
    templates: Mapping[str, WorkflowTemplate], template_id: str
) -> WorkflowTemplate:
    """The template with this id.

    Raises:
        NotFound: With the ids that exist.
    """
    template = templates.get(template_id)
    if template is None:
        known = ", ".join(sorted(templates)) or "none"
        raise NotFound(f"template '{template_id}' not found; templates: {known}")
    return template


class ExecutionStarter:
    """Validates, freezes and submits executions.

    Args:
        runner: The process's runner; its `submit` stores and starts an execution.
        catalogue: The agents graphs are validated against.
        templates: The shipped templates by id.
        enabled: ``AGENT_ORCHESTRATOR_ENABLED``; switched off, nothing starts.
        max_steps: ``AGENT_MAX_STEPS``; graphs with more steps are refused.
        max_foreach_items: ``AGENT_MAX_FOREACH_ITEMS``.
        workflows: The saved workflows sub-workflow steps may name.
        require_approval_for: ``AGENT_REQUIRE_APPROVAL_FOR``.
        tracing: The process's spans; None: traces are off.
    """

    def __init__(
        self,
        runner: Runner,
        catalogue: AgentCatalogue,
        templates: Mapping[str, WorkflowTemplate],
        *,
        enabled: bool = True,
        max_steps: int = MAX_STEPS,
        max_foreach_items: int = MAX_FOREACH_ITEMS,
        workflows: WorkflowRepository | None = None,
        require_approval_for: Collection[str] = (),
        tracing: Tracing | None = None,
    ) -> None:
        self.runner = runner
        self.catalogue = catalogue
        self.templates = templates
        self.enabled = enabled
        self.max_steps = max_steps
        self.max_foreach_items = max_foreach_items
        self.subworkflows = SubworkflowSource(templates, workflows)
        #: ``AGENT_REQUIRE_APPROVAL_FOR``: whatever the graph's source.
        self.require_approval_for = frozenset(require_approval_for)
        self.tracing = tracing

    def template(self, template_id: str) -> WorkflowTemplate:
        """The shipped template with this id.

        Raises:
            NotFound: With the ids that exist.
        """
        return find_template(self.templates, template_id)

    async def validate(
        self,
        document: Any,
        tenant_id: str,
        *,
        role: Role | None,
        variables: Mapping[str, Any] | None = None,
        origin: str | None = None,
    ) -> WorkflowGraph:
        """Validate a graph with the templates and saved workflows it runs as
        sub-workflows, and pin those (see `core.subworkflows.pin`).

        Raises:
            ValidationFailed: Every problem, sub-workflows' included.
        """
        parsed = parse_graph(document)
        found = await self.subworkflows.collect(parsed, tenant_id)
        graph = validate_workflow(
            parsed,
            self.catalogue,
            role=role,
            variables=variables,
            max_steps=self.max_steps,
            resolve=resolver(found),
            origin=origin,
            max_foreach_items=self.max_foreach_items,
            require_approval_for=self.require_approval_for,
        )
        return pin(graph, found)

    async def validate_request(self, request: ExecuteRequest) -> WorkflowGraph:
        """Validate what `request` would run, as `execute` does, without starting it
        (a schedule is checked this way when it is made).

        Raises:
            ValidationFailed: Every problem of the graph, its sub-workflows and the
                variables.
            NotFound: Unknown template.
        """
        if request.graph is not None:
            document: Any = request.graph
        else:
            document = self.template(request.template_id or "").graph
        return await self.validate(
            document,
            request.tenant_id,
            role=request.role,
            variables=request.variables,
            origin=f"workflow:{request.workflow_id}" if request.workflow_id else None,
        )

    async def execute(self, request: ExecuteRequest) -> tuple[ExecutionRecord, bool]:
        """Validate and start an execution of `request.graph`, or of the template
        `request.template_id` when no graph is given.

        Returns:
            The execution (PENDING or already RUNNING) and whether it is new (False when
            the idempotency key matched an earlier one).

        Raises:
            ServiceDisabled: The service is switched off.
            ValidationFailed: Every problem of the key, graph and variables.
            NotFound: Unknown template.
            Conflict: The idempotency key was used for another request.
        """
        ensure_enabled(self.enabled)
        key = request.idempotency_key
        problems = idempotency_key_problems(key, "idempotencyKey")
        if problems:
            raise ValidationFailed(problems)
        graph = await self.validate_request(request)
        variables = resolve_variables(graph, request.variables)
        frozen = graph.to_document()
        request_hash = _hash(
            {
                "template_id": request.template_id,
                "workflow_id": request.workflow_id,
                "graph": frozen,
                "variables": variables,
            }
        )
        new = NewExecution(
            id=new_id(),
            tenant_id=request.tenant_id,
            graph=frozen,
            variables=variables,
            # A for-each or sub-workflow step runs no agent itself (its elements do).
            steps=[
                (step.id, "" if step.for_each is not None else step.agent or "")
                for step in graph.steps
            ],
            template_id=request.template_id or request.made_from_template,
            workflow_id=request.workflow_id,
            workflow_version=request.workflow_version,
            idempotency_key=key,
            request_hash=request_hash,
            created_by=request.actor,
            role=request.role,
            metadata=request.metadata,
        )
        if self.tracing is None:
            return await self.runner.submit(new, audit=request.audit)
        with self.tracing.submitting(new) as submission:
            new = replace(new, metadata=submission.metadata(new.metadata))
            record, created = await self.runner.submit(new, audit=request.audit)
            submission.stored(record.id, created)
        return record, created


def _hash(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()
