"""Sub-workflows and for-each through GraphQL on a real server: a for-each over the
tenant's files running a saved workflow per file, its steps grouped under it in
`Execution.steps`, element step ids in the events, pinning of the saved version, and
validation problems with their paths."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from .test_graphql import EXECUTE, wait_final

if TYPE_CHECKING:
    from .conftest import Api

pytestmark = pytest.mark.anyio

SAVE = """mutation($input: SaveWorkflowInput!) {
  saveWorkflow(input: $input) { id version } }"""
GROUPED = """query($id: ID!) {
  execution(id: $id) {
    status result
    steps { stepId parentStepId index status
            children { stepId index status children { stepId parentStepId status } } }
    flat: steps(flat: true) { stepId }
    events { stepId type }
  }
}"""


def element(suffix: str) -> dict[str, Any]:
    return {
        "variables": {"file": {"type": "string", "required": True}},
        "steps": [
            {
                "id": "echo",
                "agent": "echo_agent",
                "inputs": {"text": "${vars.file}" + suffix},
            }
        ],
        "outputs": {"text": "${steps.echo.text}"},
    }


async def test_for_each_over_files_runs_a_saved_workflow_per_file(api: Api) -> None:
    folder = api.files_dir / "acme" / "kuitit" / "2026-10"
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("c.jpg", "a.jpg", "b.jpg", "skip.pdf"):
        (folder / name).write_bytes(b"x")
    client = api.client("operator")
    saved = (
        await client.data(SAVE, {"input": {"name": "kuitti", "graph": element("!")}})
    )["saveWorkflow"]
    graph = {
        "steps": [
            {
                "id": "files",
                "agent": "files_agent",
                "inputs": {"folder": "kuitit/2026-10", "pattern": "*.jpg"},
            },
            {
                "id": "each",
                "for_each": "${steps.files.files}",
                "max_concurrency": 2,
                "workflow": {"workflow_id": saved["id"]},
                "inputs": {"file": "${item}"},
            },
        ],
        "outputs": {"texts": "${steps.each.items}"},
    }
    started = await client.data(EXECUTE, {"input": {"graph": graph}})
    run_id = started["executeWorkflow"]["id"]
    # A new version saved now does not change the running execution (pinned).
    await client.data(
        SAVE, {"input": {"id": saved["id"], "name": "kuitti", "graph": element("?")}}
    )
    await wait_final(client, run_id)
    data = (await client.data(GROUPED, {"id": run_id}))["execution"]
    assert data["status"] == "SUCCEEDED"
    names = [f"kuitit/2026-10/{n}.jpg" for n in "abc"]
    assert data["result"] == {"texts": [{"text": f"{n}!"} for n in names]}
    top = data["steps"]
    assert [s["stepId"] for s in top] == ["files", "each"]
    elements = top[1]["children"]
    assert [(e["stepId"], e["index"]) for e in elements] == [
        (f"each[{i}]", i) for i in range(3)
    ]
    assert elements[2]["children"] == [
        {"stepId": "each[2].echo", "parentStepId": "each[2]", "status": "SUCCEEDED"}
    ]
    assert len(data["flat"]) == 2 + 3 + 3
    assert {"stepId": "each[1].echo", "type": "STEP_SUCCEEDED"} in data["events"]


async def test_for_each_type_errors_come_back_with_their_paths(api: Api) -> None:
    client = api.client("operator")
    graph = {
        "steps": [
            {"id": "files", "agent": "files_agent", "inputs": {"pattern": "*.jpg"}},
            {
                "id": "cat",
                "agent": "categorizer_agent",
                "for_each": "${steps.files.files}",
                "inputs": {"document": "${item}"},
            },
            {"id": "sub", "workflow": {"template": "receipt_processing"}},
        ]
    }
    answer = await client(EXECUTE, {"input": {"graph": graph}})
    error = answer["errors"][0]
    assert error["extensions"]["code"] == "VALIDATION_FAILED"
    paths = {p["path"] for p in error["extensions"]["problems"]}
    assert paths == {"steps[1].inputs.document", "steps[2].inputs.receipt_file"}
