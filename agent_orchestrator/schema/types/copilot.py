"""The copilot's plans and its request context as GraphQL types."""

from __future__ import annotations

import datetime as dt

import strawberry

from ...planner.model import Plan
from ...service.copilot import CopilotOptions, plan_fingerprint
from ..scalars import JSON
from .execution import Execution
from .schedule import Schedule


@strawberry.input(description="Who asks and against which date; all optional.")
class CopilotContextInput:
    """The context of a copilot command (DESIGN.md "GraphQL contract")."""

    tenant_id: str | None = strawberry.field(
        default=None,
        description="Must be your key's tenant when given; another tenant is refused.",
    )
    user_id: str | None = strawberry.field(
        default=None, description="Who asks, kept in the audit trail."
    )
    reference_date: dt.date | None = strawberry.field(
        default=None,
        description="'Today' for period words (default: today in `timezone`); makes "
        "plans reproducible.",
    )
    timezone: str | None = strawberry.field(
        default=None, description="IANA time zone, default Europe/Helsinki."
    )
    language: str | None = strawberry.field(
        default=None, description="fi, en or sv; detected from the command if absent."
    )

    def options(self) -> CopilotOptions:
        """The context as the copilot service takes it."""
        return CopilotOptions(
            tenant_id=self.tenant_id,
            user_id=self.user_id,
            reference_date=self.reference_date,
            timezone=self.timezone,
            language=self.language,
        )


@strawberry.type(description="When a scheduled plan runs.")
class PlanSchedule:
    """A plan's schedule: cron fields read in a time zone, and in words."""

    cron: str = strawberry.field(description="Five cron fields.")
    timezone: str = strawberry.field(description="IANA zone the cron is read in.")
    description: str = strawberry.field(description="In the command's language.")


@strawberry.type(description="A validated plan for a command, ready to execute.")
class CopilotPlan:
    """What the copilot made of a command."""

    template_id: str | None = strawberry.field(
        description="The shipped template the plan is built on."
    )
    variables: JSON = strawberry.field(
        description="The template's resolved variables (ISO dates for periods)."
    )
    graph: JSON = strawberry.field(
        description="The full validated graph, a notification step included."
    )
    explanation: str = strawberry.field(
        description="What the plan will do, in the command's language."
    )
    planner: str = strawberry.field(description="openai or offline.")
    warnings: list[str] = strawberry.field(
        description="E.g. that the model failed and the offline planner answered."
    )
    model_calls: int = strawberry.field(description="Calls made to the model.")
    tokens: int = strawberry.field(description="Tokens the model used.")
    language: str = strawberry.field(description="The command's language.")
    repairs: list[list[str]] = strawberry.field(
        description="The validator's problems fed back to the model, per attempt."
    )
    fingerprint: str = strawberry.field(
        description="SHA-256 of the graph, variables and schedule: give it to "
        "copilotExecute as expectFingerprint to run exactly this plan."
    )
    schedule: PlanSchedule | None = strawberry.field(
        default=None,
        description="When the command asks to run repeatedly (copilotExecute then "
        "creates a schedule); null: run now.",
    )

    @classmethod
    def of(cls, plan: Plan) -> CopilotPlan:
        """The GraphQL view of a plan."""
        return cls(
            template_id=plan.template_id,
            variables=JSON(dict(plan.variables)),
            graph=JSON(dict(plan.graph)),
            explanation=plan.explanation,
            planner=plan.planner,
            warnings=list(plan.warnings),
            model_calls=plan.model_calls,
            tokens=plan.tokens,
            language=plan.language,
            repairs=[list(r) for r in plan.repairs],
            schedule=None
            if plan.schedule is None
            else PlanSchedule(
                cron=plan.schedule.cron,
                timezone=plan.schedule.timezone,
                description=plan.schedule.description,
            ),
            fingerprint=plan_fingerprint(plan),
        )


@strawberry.type(description="A command's plan and, unless a dry run, its execution.")
class CopilotResult:
    """What `copilotExecute` did."""

    plan: CopilotPlan
    execution: Execution | None = strawberry.field(
        description="The started execution; null on a dry run or a schedule."
    )
    schedule: Schedule | None = strawberry.field(
        default=None,
        description="The schedule created for a command that asks to run "
        "repeatedly; null otherwise.",
    )
