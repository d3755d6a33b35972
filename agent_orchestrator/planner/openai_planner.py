"""The OpenAI planner: a model reads the command into intents; code does the rest.

One call asks the model (any OpenAI-compatible server) for an `IntentAnswer` (the
intent list of planner/intents.py) with strict structured output: tasks in order, their
documents, periods and schedules *named*, conditions as a measure and an amount, never a
date, cron field or graph wiring. The intents go through `compose_intents`, the same
code the offline planner uses; what does not convert or validate goes back to the
model as a follow-up message listing each problem's path and message, at most
``max_retries`` times. Intents that need an agent above the caller's role are refused
at once, never repaired into something else; a refusal the model chooses (its reason
and the part it quotes) is said by code in the command's language.

When the model cannot give a usable plan (the service fails or times out, the answer is
not JSON or no chat completion at all, the model refuses or is cut off, repairs run
out), the offline planner answers instead and the plan's warnings say so in the
command's language; without a fallback that is a `PlanningFailed`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import TYPE_CHECKING, Any

import anyio
from pydantic import ValidationError

from ..core.errors import PlanningFailed, Problem, ValidationFailed
from ..model_client import open_model_client
from . import messages
from .compose import NOTIFY_AGENT, RUN_ROLE
from .composer import compose_intents
from .intents import IntentPlan, Task
from .prompts import repair_message, system_prompt, user_message
from .structured import IntentAnswer

if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import TracebackType

    import openai
    from openai.types.chat import ChatCompletionMessageParam

    from ..config import ModelSettings
    from ..core.enums import Role
    from ..core.protocols import AgentCatalogue
    from ..core.templates import WorkflowTemplate
    from .model import Plan, PlanContext, Planner

__all__ = ["OpenAIPlanner"]

log = logging.getLogger("agent_orchestrator.planner")
MAX_REFUSAL_CHARS = 600
_TEMPLATE_OF = {
    Task.PROCESS_RECEIPTS: "receipt_processing",
    Task.PROCESS_INVOICES: "invoice_processing",
    Task.VAT_REPORT: "vat_report",
    Task.FINANCIAL_REPORT: "financial_report",
}
_AGENTS_OF = {Task.SEND: (NOTIFY_AGENT,), Task.APPROVE: ("approval_agent",)}

# Why the model gave no usable plan, said to the user (first part of a warning).
_FAILURES: dict[str, dict[str, str]] = {
    "timeout": {
        "fi": "Kielimalli ei vastannut ajoissa.",
        "en": "The language model did not answer in time.",
        "sv": "Språkmodellen svarade inte i tid.",
    },
    "unavailable": {
        "fi": "Kielimallipalvelu ei ollut käytettävissä.",
        "en": "The language model service was not available.",
        "sv": "Språkmodellstjänsten var inte tillgänglig.",
    },
    "garbage": {
        "fi": "Kielimallin vastausta ei voitu lukea.",
        "en": "The language model's answer could not be read.",
        "sv": "Språkmodellens svar kunde inte läsas.",
    },
    "refused": {
        "fi": "Kielimalli kieltäytyi vastaamasta.",
        "en": "The language model declined to answer.",
        "sv": "Språkmodellen avböjde att svara.",
    },
    "length": {
        "fi": "Kielimallin vastaus katkesi kesken.",
        "en": "The language model's answer was cut off.",
        "sv": "Språkmodellens svar avbröts.",
    },
    "invalid": {
        "fi": "Kielimallin suunnitelma ei läpäissyt tarkistusta korjausyritysten "
        "jälkeenkään.",
        "en": "The language model's plan did not pass validation, even after "
        "repair attempts.",
        "sv": "Språkmodellens plan klarade inte valideringen, inte ens efter "
        "reparationsförsök.",
    },
}
_FELL_BACK = {
    "fi": "Suunnitelman teki paikallinen suunnittelija.",
    "en": "The offline planner made this plan instead.",
    "sv": "Planen gjordes i stället av den lokala planeraren.",
}
_NO_FALLBACK = {
    "fi": "Yritä hetken päästä uudelleen.",
    "en": "Try again in a moment.",
    "sv": "Försök igen om en stund.",
}


class _ModelFailed(Exception):
    """The model gave no usable plan; `reason` is a key of `_FAILURES`."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclasses.dataclass
class _Tally:
    calls: int = 0
    tokens: int = 0
    repairs: list[tuple[str, ...]] = dataclasses.field(default_factory=list)


class OpenAIPlanner:
    """Plans with a model through the official `openai` client, with a fallback.

    Use it as an async context manager to keep one HTTP client for its lifetime;
    without one, each `plan` opens and closes its own client.

    Args:
        catalogue: The registered agents.
        templates: The shipped templates by id.
        model: The model (``OPENAI_*``) and the limit of each call
            (``AGENT_TIMEOUT_MS``).
        max_retries: Repair rounds after the first answer (``AGENT_MAX_RETRIES``).
        fallback: The planner that answers when the model cannot; None raises
            `PlanningFailed` instead.
    """

    name = "openai"

    def __init__(
        self,
        catalogue: AgentCatalogue,
        templates: Mapping[str, WorkflowTemplate],
        *,
        model: ModelSettings,
        max_retries: int = 3,
        fallback: Planner | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.templates = templates
        self.settings = model
        self.model = model.model
        self.max_retries = max(0, max_retries)
        self.timeout_s = model.timeout_s
        self.fallback = fallback
        self._client: openai.AsyncOpenAI | None = None
        self._prompts: dict[Role | None, str] = {}

    async def __aenter__(self) -> OpenAIPlanner:
        self._client = self._new_client()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client (if the planner was entered)."""
        client, self._client = self._client, None
        if client is not None:
            await client.close()

    def _new_client(self) -> openai.AsyncOpenAI:
        # The client does not retry (`model_client`): a failed call falls back to
        # the offline planner at once, which answers better than a user waiting
        # through back-offs.
        return open_model_client(self.settings)

    def system_prompt(self, role: Role | None) -> str:
        """The instructions for a caller of `role` (made once per role)."""
        prompt = self._prompts.get(role)
        if prompt is None:
            prompt = system_prompt(self.catalogue, self.templates, role)
            self._prompts[role] = prompt
        return prompt

    async def plan(self, command: str, context: PlanContext) -> Plan:
        """Plan `command` with the model, or with the fallback when the model fails.

        Raises:
            PlanningFailed: The model refused the command as outside the product's
                work, the plan needs an agent above the caller's role, or the model
                failed and there is no fallback (or the fallback refused too).
        """
        role = context.role
        if role is not None and not role.includes(RUN_ROLE):
            # Nothing this caller could run: no reason to ask the model.
            raise PlanningFailed(
                messages.text(
                    "role",
                    messages.language_of(context.language),
                    role=role.value,
                    needed=RUN_ROLE.value,
                )
            )
        tally = _Tally()
        try:
            if self._client is not None:
                return await self._plan(self._client, command, context, tally)
            async with self._new_client() as client:
                return await self._plan(client, command, context, tally)
        except _ModelFailed as failure:
            log.warning("the model gave no usable plan (%s)", failure)
            return await self._fall_back(command, context, failure, tally)

    async def _plan(
        self,
        client: openai.AsyncOpenAI,
        command: str,
        context: PlanContext,
        tally: _Tally,
    ) -> Plan:
        conversation: list[ChatCompletionMessageParam] = [
            {"role": "system", "content": self.system_prompt(context.role)},
            {"role": "user", "content": user_message(command, context)},
        ]
        while True:
            content, problems, plan = await self._attempt(
                client, conversation, context, tally
            )
            if plan is not None:
                return plan
            if len(tally.repairs) >= self.max_retries:
                listed = "; ".join(str(p) for p in problems)
                raise _ModelFailed("invalid", listed)
            tally.repairs.append(tuple(str(p) for p in problems))
            conversation += [
                {"role": "assistant", "content": content},
                {"role": "user", "content": repair_message(problems)},
            ]

    async def _attempt(
        self,
        client: openai.AsyncOpenAI,
        conversation: list[ChatCompletionMessageParam],
        context: PlanContext,
        tally: _Tally,
    ) -> tuple[str, tuple[Problem, ...], Plan | None]:
        """One call: the answer's text and either its problems or the plan."""
        content, choice, problems = await self._ask(client, conversation, tally)
        if choice is None:
            return content, problems, None
        try:
            intents = choice.to_plan(context.language)
        except ValidationFailed as exc:
            return content, exc.problems, None
        language = messages.language_of(context.language or intents.language)
        if intents.refusal is None:
            self._refuse_forbidden(intents, context, language)
        try:
            plan = compose_intents(
                intents,
                context,
                self.templates,
                self.catalogue,
                planner=self.name,
                model_calls=tally.calls,
                tokens=tally.tokens,
                repairs=tally.repairs,
            )
        except ValidationFailed as exc:
            return content, exc.problems, None
        except PlanningFailed as exc:
            if intents.refusal is not None:
                # The model refused: the refusal is said by code, in the language.
                raise
            # Intents that compose to nothing (a bad format or address, no period):
            # the model may fix them, or refuse.
            return content, (Problem("plan", str(exc), "not_plannable"),), None
        return content, (), dataclasses.replace(plan, model=self.model)

    def _refuse_forbidden(
        self, intents: IntentPlan, context: PlanContext, language: str
    ) -> None:
        """Refuse intents that need an agent above the caller's role: repairing
        them would quietly change what the caller asked for."""
        role = context.role
        if role is None:
            return
        agents: list[str] = []
        for intent in intents.intents:
            template = self.templates.get(_TEMPLATE_OF.get(intent.task, ""))
            if template is not None:
                agents.extend(step.agent for step in template.graph.steps if step.agent)
            agents.extend(_AGENTS_OF.get(intent.task, ()))
            if intent.documents is not None and intent.documents.is_batch:
                agents.append("files_agent")
        needed = [
            agent.min_role
            for agent in map(self.catalogue.get, agents)
            if agent is not None and not role.includes(agent.min_role)
        ]
        if needed:
            highest = max(needed, key=lambda r: r.rank)
            raise PlanningFailed(
                messages.text("role", language, role=role.value, needed=highest.value)
            )

    async def _ask(
        self,
        client: openai.AsyncOpenAI,
        conversation: list[ChatCompletionMessageParam],
        tally: _Tally,
    ) -> tuple[str, IntentAnswer | None, tuple[Problem, ...]]:
        """Call the model once: its text, and its choice or why the choice is unfit.

        Raises:
            _ModelFailed: No answer worth repairing.
        """
        import openai

        tally.calls += 1
        try:
            with anyio.fail_after(self.timeout_s):
                raw = await client.chat.completions.with_raw_response.parse(
                    model=self.model,
                    messages=conversation,
                    response_format=IntentAnswer,
                    timeout=self.timeout_s,
                )
        except (TimeoutError, openai.APITimeoutError) as exc:
            raise _ModelFailed("timeout", type(exc).__name__) from exc
        except openai.APIStatusError as exc:
            raise _ModelFailed("unavailable", f"HTTP {exc.status_code}") from exc
        except openai.OpenAIError as exc:
            raise _ModelFailed("unavailable", type(exc).__name__) from exc
        body = _json(raw)
        tally.tokens += _total_tokens(body)
        if not _is_completion(body):
            # A proxy's HTML page, or JSON of another API: the client builds its
            # objects without validating them and would fail on their shape.
            raise _ModelFailed("garbage", "not a chat completion")
        content = _content(body)
        try:
            completion = raw.parse()
        except openai.LengthFinishReasonError as exc:
            raise _ModelFailed("length") from exc
        except openai.ContentFilterFinishReasonError as exc:
            raise _ModelFailed("refused", "content filter") from exc
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            if not content or any(e["type"] == "json_invalid" for e in errors):
                raise _ModelFailed("garbage", content[:80]) from exc
            problems = tuple(
                Problem(
                    ".".join(str(p) for p in e["loc"]) or "(answer)",
                    e["msg"],
                    "bad_answer",
                )
                for e in errors
            )
            return content, None, problems
        except (openai.OpenAIError, ValueError, TypeError, AttributeError) as exc:
            # What else the client raises reading an answer it cannot use.
            raise _ModelFailed("garbage", type(exc).__name__) from exc
        if not completion.choices:
            raise _ModelFailed("garbage", "no choices")
        message = completion.choices[0].message
        if message.refusal:
            raise _ModelFailed("refused", message.refusal[:80])
        if message.parsed is None:
            raise _ModelFailed("garbage", content[:80])
        return content, message.parsed, ()

    async def _fall_back(
        self,
        command: str,
        context: PlanContext,
        failure: _ModelFailed,
        tally: _Tally,
    ) -> Plan:
        if self.fallback is None:
            language = messages.language_of(context.language)
            raise PlanningFailed(
                f"{_FAILURES[failure.reason][language]} {_NO_FALLBACK[language]}"
            ) from failure
        plan = await self.fallback.plan(command, context)
        language = messages.language_of(plan.language)
        warning = f"{_FAILURES[failure.reason][language]} {_FELL_BACK[language]}"
        return dataclasses.replace(
            plan,
            warnings=(*plan.warnings, warning),
            model_calls=plan.model_calls + tally.calls,
            tokens=plan.tokens + tally.tokens,
            repairs=(*plan.repairs, *tally.repairs),
        )


def _json(raw: Any) -> dict[str, Any]:
    try:
        body = json.loads(raw.http_response.text)
    except (ValueError, AttributeError):
        return {}
    return body if isinstance(body, dict) else {}


def _is_completion(body: Mapping[str, Any]) -> bool:
    """Whether an answer has the shape of a chat completion: choices, the first with
    a message object."""
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices:
        return False
    first = choices[0]
    return isinstance(first, dict) and isinstance(first.get("message"), dict)


def _total_tokens(body: Mapping[str, Any]) -> int:
    usage = body.get("usage")
    if not isinstance(usage, dict):
        return 0
    total = usage.get("total_tokens")
    if isinstance(total, int):
        return total
    parts = (usage.get("prompt_tokens"), usage.get("completion_tokens"))
    return sum(p for p in parts if isinstance(p, int))


def _content(body: Mapping[str, Any]) -> str:
    try:
        content = body["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        return ""
    return content if isinstance(content, str) else ""
