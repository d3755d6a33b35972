"""Sub-workflows and for-each through GraphQL on a real server: a for-each over the
tenant's files running a saved workflow per file, its steps grouped under it in
`Execution.steps`, element step ids in the events, pinning of the saved version, and
validation problems with their paths."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anyio
import pytest

from tests.support.gql import ws_connect

from .test_graphql import EXECUTE, wait_final
from .test_rest import BASE, http
from .test_subscriptions import EVENTS

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


async def test_the_subscription_names_elements_live(api: Api) -> None:
    client = api.client("operator")
    graph = {
        "steps": [
            {
                "id": "each",
                "for_each": [0.2, 0.2, 0.2],
                "max_concurrency": 3,
                "workflow": {
                    "graph": {
                        "variables": {"s": {"type": "number", "required": True}},
                        "steps": [
                            {
                                "id": "ocr",
                                "agent": "wait_agent",
                                "inputs": {"seconds": "${vars.s}"},
                            }
                        ],
                    }
                },
                "inputs": {"s": "${item}"},
            }
        ]
    }
    started = await client.data(EXECUTE, {"input": {"graph": graph}})
    run_id = started["executeWorkflow"]["id"]
    async with ws_connect(api.url, api.keys["viewer"]) as ws:
        op = await ws.start(EVENTS, {"id": run_id})
        with anyio.fail_after(30):
            events = [m["data"]["executionEvents"] async for m in ws.messages(op)]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[-1]["type"] == "EXECUTION_SUCCEEDED"
    ended = [
        (e["stepId"], e["agentId"]) for e in events if e["type"] == "STEP_SUCCEEDED"
    ]
    assert ("each[3].ocr", "wait_agent") not in ended
    assert {("each[2].ocr", "wait_agent"), ("each[2]", None), ("each", None)} <= set(
        ended
    )


async def test_a_saved_workflow_cannot_run_itself(api: Api) -> None:
    client = api.client("operator")
    first = (await client.data(SAVE, {"input": {"name": "ok", "graph": element("")}}))[
        "saveWorkflow"
    ]
    looping = {
        "steps": [
            {
                "id": "again",
                "workflow": {"workflow_id": first["id"]},
                "inputs": {"file": "x"},
            }
        ]
    }
    answer = await client(
        SAVE, {"input": {"id": first["id"], "name": "loop", "graph": looping}}
    )
    error = answer["errors"][0]
    assert error["extensions"]["code"] == "VALIDATION_FAILED"
    [problem] = error["extensions"]["problems"]
    assert problem["path"] == "steps[0].workflow"
    assert f"workflow:{first['id']} -> workflow:{first['id']}" in problem["message"]
    # Another tenant's saved workflow is not found, not run.
    other = api.client("other")
    answer = await other(EXECUTE, {"input": {"graph": looping}})
    error = answer["errors"][0]
    assert error["extensions"]["code"] == "VALIDATION_FAILED"
    assert "not found" in error["extensions"]["problems"][0]["message"]


async def test_rest_runs_a_graph_with_a_for_each(api: Api) -> None:
    graph = {
        "steps": [
            {
                "id": "each",
                "for_each": ["a", "b"],
                "workflow": {"graph": element("+")},
                "inputs": {"file": "${item}"},
            }
        ],
        "outputs": {"texts": "${steps.each.items}"},
    }
    async with http(api) as client:
        started = await client.post(f"{BASE}/workflows/execute", json={"graph": graph})
        assert started.status_code == 202, started.text
        execution_id = started.json()["execution_id"]
        with anyio.fail_after(30):
            while True:
                status = (
                    await client.get(f"{BASE}/workflows/{execution_id}/status")
                ).json()
                if status["status"] != "RUNNING" and status["status"] != "PENDING":
                    break
                await anyio.sleep(0.05)
        result = (await client.get(f"{BASE}/workflows/{execution_id}/result")).json()
        both = await client.post(
            f"{BASE}/workflows/execute", json={"graph": graph, "template_id": "x"}
        )
    assert status["status"] == "SUCCEEDED", status
    assert result["result"] == {"texts": [{"text": "a+"}, {"text": "b+"}]}
    rows = {s["step_id"]: (s["parent_step_id"], s["index"]) for s in status["steps"]}
    assert rows["each"] == (None, None)
    assert rows["each[1]"] == ("each", 1)
    assert rows["each[1].echo"] == ("each[1]", None)
    assert both.status_code == 422
    assert [p["path"] for p in both.json()["error"]["problems"]] == ["template_id"]
