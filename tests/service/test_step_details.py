"""`StepDetails`: the steps each step run waits for and the inputs it ran with, told
from the stored graph, variables and outputs as the engine resolves them."""

from __future__ import annotations

from typing import Any

from agent_orchestrator.core.enums import StepStatus
from agent_orchestrator.core.protocols import StepRecord
from agent_orchestrator.service.step_details import StepDetails

GRAPH: dict[str, Any] = {
    "variables": {"folder": {"type": "string"}},
    "steps": [
        {"id": "files", "agent": "files_agent", "inputs": {"folder": "${vars.folder}"}},
        {
            "id": "each",
            "for_each": "${steps.files.files}",
            "agent": "echo_agent",
            "inputs": {"value": "${item}", "text": "n:${index} ${vars.folder}"},
        },
        {
            "id": "sum",
            "agent": "echo_agent",
            "inputs": {"value": "${steps.each.items}"},
            "when": "${steps.files.count} > 0",
            "depends_on": ["files"],
        },
        {
            "id": "sub",
            "workflow": {"template": "vat_report"},
            "inputs": {"period_start": "2026-10-01", "period_end": "2026-10-31"},
            "depends_on": ["sum"],
        },
        {"id": "later", "agent": "wait_agent", "inputs": {"seconds": 1}},
    ],
}
VARIABLES = {"folder": "kuitit"}


def step(
    step_id: str,
    status: StepStatus,
    output: dict[str, Any] | None = None,
    attempts: int = 1,
) -> StepRecord:
    return StepRecord(step_id, "agent", status, attempts=attempts, output=output)


STEPS = [
    step("files", StepStatus.SUCCEEDED, {"files": ["a.jpg", "b.jpg"], "count": 2}),
    step("each", StepStatus.RUNNING),
    step("each[0]", StepStatus.SUCCEEDED, {"value": "a.jpg"}),
    step("each[1]", StepStatus.RETRYING, attempts=2),
    step("sum", StepStatus.PENDING, attempts=0),
    step("sub", StepStatus.PENDING, attempts=0),
    step("sub.vat", StepStatus.PENDING, attempts=0),
    step("later", StepStatus.SKIPPED, attempts=0),
]


def test_a_step_waits_for_its_depends_on_and_every_step_it_refers_to() -> None:
    details = StepDetails(GRAPH, VARIABLES, STEPS)

    assert details.depends_on("files") == []
    assert details.depends_on("each") == ["files"]
    # Its input refers to `each`, its condition to `files`: graph order.
    assert details.depends_on("sum") == ["files", "each"]
    assert details.depends_on("sub") == ["sum"]
    # Elements and a sub-workflow's steps are drawn inside their parent's box.
    assert details.depends_on("each[1]") == []
    assert details.depends_on("sub.vat") == []


def test_inputs_are_resolved_as_the_engine_resolves_them() -> None:
    details = StepDetails(GRAPH, VARIABLES, STEPS)

    assert details.inputs("files") == {"folder": "kuitit"}
    assert details.inputs("each[0]") == {"value": "a.jpg", "text": "n:0 kuitit"}
    assert details.inputs("each[1]") == {"value": "b.jpg", "text": "n:1 kuitit"}


def test_no_inputs_are_told_where_none_were_used() -> None:
    details = StepDetails(GRAPH, VARIABLES, STEPS)

    assert details.inputs("each") is None  # a for-each: its elements have theirs
    assert details.inputs("sum") is None  # not started
    assert details.inputs("later") is None  # skipped
    assert details.inputs("sub.vat") is None  # not started
    assert details.inputs("each[7]") is None  # no such element
    assert details.inputs("nothing") is None


def test_a_literal_list_and_a_graph_that_no_longer_parses() -> None:
    graph = {
        "steps": [
            {
                "id": "each",
                "for_each": [{"s": 0.1}, {"s": 0.2}],
                "agent": "wait_agent",
                "inputs": {"seconds": "${item.s}"},
            }
        ]
    }
    details = StepDetails(graph, {}, [step("each[1]", StepStatus.SUCCEEDED)])
    assert details.inputs("each[1]") == {"seconds": 0.2}

    broken = StepDetails({"steps": "?"}, {}, [step("a", StepStatus.RUNNING)])
    assert broken.inputs("a") is None and broken.depends_on("a") == []


def test_the_steps_of_a_sub_workflow_in_each_element_have_their_inputs() -> None:
    inner = {
        "variables": {"file": {"type": "string", "required": True}},
        "steps": [
            {"id": "read", "agent": "echo_agent", "inputs": {"value": "${vars.file}"}},
            {
                "id": "tell",
                "agent": "echo_agent",
                "inputs": {"value": "${steps.read.value}!", "text": "${vars.file}"},
            },
        ],
    }
    graph = {
        "steps": [
            {
                "id": "each",
                "for_each": ["a.jpg", "b.jpg"],
                # Pinned, as the service stores a sub-workflow when it starts.
                "workflow": {"graph": inner},
                "inputs": {"file": "${item}"},
            }
        ]
    }
    runs = [
        step("each", StepStatus.RUNNING),
        step("each[0]", StepStatus.SUCCEEDED),
        step("each[0].read", StepStatus.SUCCEEDED, {"value": "A"}),
        step("each[0].tell", StepStatus.SUCCEEDED, {"value": "A!"}),
        step("each[1]", StepStatus.RUNNING),
        step("each[1].read", StepStatus.SUCCEEDED, {"value": "B"}),
        step("each[1].tell", StepStatus.RETRYING, attempts=2),
    ]
    details = StepDetails(graph, {}, runs)

    assert details.inputs("each[1]") == {"file": "b.jpg"}
    assert details.inputs("each[0].read") == {"value": "a.jpg"}
    # Each element's steps see their own sibling's output, not another element's.
    assert details.inputs("each[0].tell") == {"value": "A!", "text": "a.jpg"}
    assert details.inputs("each[1].tell") == {"value": "B!", "text": "b.jpg"}
    assert details.depends_on("each[1].tell") == []
    assert details.inputs("each[1].nothing") is None

    # Inputs that do not fit the sub-workflow: it never started its steps.
    unfit = {"steps": [{**graph["steps"][0], "inputs": {"other": 1}}]}
    assert StepDetails(unfit, {}, runs).inputs("each[0].read") is None
