"""Shipped workflow templates: data files in `agent_orchestrator/templates/`.

Each ``<id>.json`` holds ``{"id", "name": {"fi", "en"}, "description": {"fi", "en"},
"graph": {...}}``; the file name and the id agree. Template ids are a public contract
(DESIGN.md "Shipped templates").
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import Problem, ValidationFailed
from .graph import IDENTIFIER, WorkflowGraph, problems_from_pydantic

TEMPLATE_PACKAGE = "agent_orchestrator.templates"


class Texts(BaseModel):
    """A text in Finnish and English."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fi: str
    en: str


class NotifyHint(BaseModel):
    """How a notification step appended to this template reports its result.

    Strings may hold references into the template's steps, e.g.
    ``${steps.report.artifact_id}``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    subject: Texts
    body: Texts
    attachments: list[str] = Field(default_factory=list)
    data: Any = None


class WorkflowTemplate(BaseModel):
    """A shipped, named workflow graph."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=IDENTIFIER)
    name: Texts
    description: Texts
    graph: WorkflowGraph
    keywords: list[str] = Field(default_factory=list)
    notify: NotifyHint | None = None


def load_templates(package: str = TEMPLATE_PACKAGE) -> dict[str, WorkflowTemplate]:
    """Read every template file of `package`, ordered by id.

    Raises:
        ValidationFailed: A file is not valid JSON or not a valid template; the path
            names the file.
    """
    templates: dict[str, WorkflowTemplate] = {}
    problems: list[Problem] = []
    for entry in sorted(resources.files(package).iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json"):
            continue
        try:
            document: Any = json.loads(entry.read_text(encoding="utf-8"))
            template = WorkflowTemplate.model_validate(document)
        except json.JSONDecodeError as exc:
            problems.append(Problem(entry.name, f"not valid JSON: {exc}", "bad_json"))
            continue
        except ValidationError as exc:
            problems.extend(problems_from_pydantic(exc, entry.name))
            continue
        if f"{template.id}.json" != entry.name:
            problems.append(
                Problem(
                    entry.name,
                    f"holds template '{template.id}'; rename the file "
                    f"to {template.id}.json",
                    "bad_name",
                )
            )
            continue
        templates[template.id] = template
    if problems:
        raise ValidationFailed(problems)
    return templates
