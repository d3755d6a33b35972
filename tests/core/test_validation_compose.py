"""The validator types sub-workflows and for-each steps: element types flow into
``${item}``, a sub-workflow's variables are checked against the step's inputs, no
workflow includes itself, nesting stops at three levels, and every problem has its
path."""

from __future__ import annotations

from typing import Any

import pytest

from agent_orchestrator.agents.categorizer import CategorizerAgent
from agent_orchestrator.agents.files import FilesAgent
from agent_orchestrator.agents.ocr import OcrAgent
from agent_orchestrator.agents.receipts import ReceiptParserAgent
from agent_orchestrator.agents.registry import AgentRegistry
from agent_orchestrator.agents.resources import AgentResources
from agent_orchestrator.agents.wait import WaitAgent
from agent_orchestrator.core.errors import ValidationFailed
from agent_orchestrator.core.graph import WorkflowGraph, WorkflowRef, parse_graph
from agent_orchestrator.core.subworkflows import pin, resolver
from agent_orchestrator.core.validation import validate_workflow
from tests.support.agents import create_agents

RESOURCES = AgentResources()
REGISTRY = AgentRegistry(
    [
        WaitAgent(),
        FilesAgent(RESOURCES),
        OcrAgent(RESOURCES),
        ReceiptParserAgent(),
        CategorizerAgent(RESOURCES),
        *create_agents(None),
    ]
)

RECEIPT = {
    "variables": {"receipt_file": {"type": "string", "required": True}},
    "steps": [
        {"id": "ocr", "agent": "ocr_agent", "inputs": {"file": "${vars.receipt_file}"}},
        {
            "id": "parse",
            "agent": "receipt_parser_agent",
            "inputs": {"text": "${steps.ocr.text}"},
        },
    ],
    "outputs": {"receipt": "${steps.parse.receipt}", "text": "${steps.ocr.text}"},
}
FILES = {
    "id": "files",
    "agent": "files_agent",
    "inputs": {"folder": "kuitit/2026-10", "pattern": "*.jpg"},
}


def problems(graph: dict[str, Any], **kwargs: Any) -> list[tuple[str, str, str]]:
    with pytest.raises(ValidationFailed) as caught:
        validate_workflow(graph, REGISTRY, **kwargs)
    return [(p.path, p.code, p.message) for p in caught.value.problems]


def codes(graph: dict[str, Any], **kwargs: Any) -> list[tuple[str, str]]:
    return [(path, code) for path, code, _ in problems(graph, **kwargs)]


def saved(graphs: dict[str, dict[str, Any]]) -> Any:
    """A resolver over saved workflows and templates by key."""
    parsed = {key: parse_graph(graph) for key, graph in graphs.items()}

    def resolve(ref: WorkflowRef) -> WorkflowGraph | str:
        return parsed.get(ref.key or "", f"{ref.describe()} not found")

    return resolve


def test_the_design_example_passes_with_a_template() -> None:
    graph = {
        "steps": [
            FILES,
            {
                "id": "each",
                "for_each": "${steps.files.files}",
                "max_concurrency": 4,
                "workflow": {"template": "receipt_processing"},
                "inputs": {"receipt_file": "${item}"},
            },
            {
                "id": "texts",
                "agent": "echo_agent",
                "inputs": {"text": "${steps.each.items.0.receipt.merchant}"},
            },
        ]
    }
    resolve = saved({"template:receipt_processing": RECEIPT})
    parsed = validate_workflow(graph, REGISTRY, resolve=resolve)
    assert parsed.dependencies()["each"] == {"files"}


def test_a_list_of_strings_into_an_object_input_is_refused_with_its_path() -> None:
    graph = {
        "steps": [
            FILES,
            {
                "id": "cat",
                "agent": "categorizer_agent",
                "for_each": "${steps.files.files}",
                "inputs": {"document": "${item}"},
            },
        ]
    }
    [(path, code, message)] = problems(graph)
    assert (path, code) == ("steps[1].inputs.document", "type_mismatch")
    assert "${item} gives string" in message and "object" in message


def test_item_fields_are_typed_through_the_element() -> None:
    graph = {
        "steps": [
            {"id": "each", "for_each": "${steps.parse.receipt}", "agent": "echo_agent"},
            {"id": "ocr", "agent": "ocr_agent", "inputs": {"file": "a.jpg"}},
            {
                "id": "parse",
                "agent": "receipt_parser_agent",
                "inputs": {"text": "${steps.ocr.text}"},
            },
            {
                "id": "rows",
                "agent": "wait_agent",
                "for_each": [{"s": 1}],
                "inputs": {"seconds": "${item.s}"},
            },
            {
                "id": "bad",
                "agent": "wait_agent",
                "for_each": "${steps.files.files}",
                "inputs": {"seconds": "${item}"},
            },
            FILES,
            {
                "id": "nofield",
                "agent": "echo_agent",
                "inputs": {"value": "${steps.files.files.0.name}"},
            },
        ]
    }
    found = codes(graph)
    assert ("steps[0].for_each", "type_mismatch") in found  # an object, not a list
    assert ("steps[4].inputs.seconds", "type_mismatch") in found  # string -> number
    assert all(not path.startswith("steps[3]") for path, _ in found)


def test_item_and_index_exist_only_in_for_each_steps() -> None:
    graph = {
        "steps": [
            {"id": "a", "agent": "echo_agent", "inputs": {"value": "${item}"}},
            {
                "id": "b",
                "agent": "echo_agent",
                "for_each": [1, 2],
                "inputs": {"value": "${index}"},
                "when": "${item} > 1",
            },
        ],
        "outputs": {"x": "${index}"},
    }
    assert sorted(codes(graph)) == [
        ("outputs.x", "unknown_variable"),
        ("steps[0].inputs.value", "unknown_variable"),
        ("steps[1].when", "bad_reference"),
    ]


def test_sub_workflow_variables_are_checked_against_the_inputs() -> None:
    graph = {
        "steps": [
            FILES,
            {
                "id": "one",
                "workflow": {"graph": RECEIPT},
                "inputs": {"receipt_fil": "x.jpg"},
            },
            {
                "id": "two",
                "workflow": {"graph": RECEIPT},
                "inputs": {"receipt_file": "${steps.files.files}"},
            },
            {
                "id": "three",
                "workflow": {"graph": RECEIPT},
                "inputs": {"receipt_file": 5},
            },
        ]
    }
    assert codes(graph) == [
        ("steps[1].inputs.receipt_fil", "unknown_input"),
        ("steps[1].inputs.receipt_file", "missing_input"),
        ("steps[2].inputs.receipt_file", "type_mismatch"),
        ("steps[3].inputs.receipt_file", "invalid_input"),
    ]


def test_outputs_of_a_sub_workflow_are_typed() -> None:
    graph = {
        "steps": [
            {
                "id": "sub",
                "workflow": {"graph": RECEIPT},
                "inputs": {"receipt_file": "a"},
            },
            {
                "id": "wait",
                "agent": "wait_agent",
                "inputs": {"seconds": "${steps.sub.text}"},
            },
            {
                "id": "nope",
                "agent": "echo_agent",
                "inputs": {"value": "${steps.sub.missing}"},
            },
        ]
    }
    assert codes(graph) == [
        ("steps[1].inputs.seconds", "type_mismatch"),
        ("steps[2].inputs.value", "unknown_output"),
    ]


def test_problems_inside_an_inline_sub_workflow_have_full_paths() -> None:
    inner = {"steps": [{"id": "x", "agent": "ghost_agent"}]}
    graph = {
        "steps": [
            {"id": "a", "agent": "echo_agent"},
            {"id": "sub", "workflow": {"graph": inner}},
        ]
    }
    [(path, code, message)] = problems(graph)
    assert (path, code) == ("steps[1].workflow.graph.steps[0].agent", "unknown_agent")
    assert "'ghost_agent'" in message


def test_a_workflow_cannot_include_itself() -> None:
    direct = {
        "steps": [{"id": "me", "workflow": {"workflow_id": "w1"}}],
    }
    [(path, code, message)] = problems(
        direct, resolve=saved({"workflow:w1": direct}), origin="workflow:w1"
    )
    assert (path, code) == ("steps[0].workflow", "self_inclusion")
    assert "workflow:w1 -> workflow:w1" in message
    # Through another saved workflow: w1 runs w2, which runs w1.
    w2 = {"steps": [{"id": "back", "workflow": {"workflow_id": "w1", "version": 2}}]}
    w1 = {"steps": [{"id": "there", "workflow": {"workflow_id": "w2"}}]}
    resolve = saved({"workflow:w1": w1, "workflow:w2": w2})
    [(path, code, message)] = problems(w1, resolve=resolve, origin="workflow:w1")
    assert (path, code) == ("steps[0].workflow.steps[0].workflow", "self_inclusion")
    assert "workflow:w1 -> workflow:w2 -> workflow:w1" in message
    # An execution of a graph that names w1 meets the loop one level down.
    top = {"steps": [{"id": "run", "workflow": {"workflow_id": "w1"}}]}
    [(path, code, _)] = problems(top, resolve=resolve)
    assert path == "steps[0].workflow.steps[0].workflow.steps[0].workflow"
    assert code == "self_inclusion"


def test_nesting_deeper_than_three_is_refused() -> None:
    graph: dict[str, Any] = {"steps": [{"id": "leaf", "agent": "echo_agent"}]}
    for level in range(4):
        graph = {"steps": [{"id": f"l{level}", "workflow": {"graph": graph}}]}
    [(path, code, message)] = problems(graph)
    inner = ".graph.steps[0].workflow"
    assert path == "steps[0].workflow" + inner * 3
    assert code == "too_deep" and "at most 3" in message
    validate_workflow(graph["steps"][0]["workflow"]["graph"], REGISTRY)  # 3 deep


def test_unknown_template_and_bad_for_each_are_named() -> None:
    graph = {
        "steps": [
            {"id": "a", "workflow": {"template": "nope"}},
            {
                "id": "b",
                "agent": "echo_agent",
                "for_each": "items: ${steps.a.x}",
            },
        ]
    }
    both = {"steps": [{"id": "c", "agent": "echo_agent", "workflow": {"graph": graph}}]}
    [(path, code, message)] = problems(both)
    assert (path, code) == ("steps[0]", "value_error")
    assert "exactly one of agent or workflow" in message
    found = problems(graph, resolve=saved({}))
    paths = [(p, c) for p, c, _ in found]
    assert ("steps[0].workflow", "unknown_workflow") in paths
    assert ("steps[1].for_each", "bad_for_each") in paths
    assert (
        "template 'nope' not found"
        in found[paths.index(("steps[0].workflow", "unknown_workflow"))][2]
    )


def test_sub_workflow_steps_count_towards_the_step_limit() -> None:
    inner = {"steps": [{"id": f"s{i}", "agent": "echo_agent"} for i in range(6)]}
    graph = {"steps": [{"id": f"u{i}", "workflow": {"graph": inner}} for i in range(3)]}
    assert codes(graph, max_steps=20) == [("steps", "too_many_steps")]
    validate_workflow(graph, REGISTRY, max_steps=21)


def test_ids_that_would_not_fit_a_step_run_are_refused() -> None:
    long = "x" * 40
    inner = {"steps": [{"id": long, "agent": "echo_agent"}]}
    graph = {
        "steps": [{"id": long[:30], "for_each": [1], "workflow": {"graph": inner}}]
    }
    [(path, code, _)] = problems(graph)
    assert (path, code) == ("steps[0].workflow.graph.steps[0].id", "id_too_long")


def test_pinning_stores_the_resolved_graph_and_version() -> None:
    graph = parse_graph(
        {"steps": [{"id": "a", "workflow": {"template": "receipt_processing"}}]}
    )
    found: Any = {("receipt_processing", None, None): (parse_graph(RECEIPT), None)}
    pinned = pin(graph, found)
    ref = pinned.steps[0].workflow
    assert ref is not None and ref.graph == parse_graph(RECEIPT)
    assert ref.template == "receipt_processing"
    # The pinned document still validates, and resolves to the same graph.
    validate_workflow(
        pinned.to_document()
        | {
            "steps": [
                {
                    "id": "a",
                    "workflow": ref.model_dump(exclude_none=True),
                    "inputs": {"receipt_file": "k.jpg"},
                }
            ]
        },
        REGISTRY,
        resolve=resolver(found),
    )
