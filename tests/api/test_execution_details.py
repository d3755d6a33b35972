"""What the execution view reads, over the real server on SQLite and PostgreSQL:
`viewer` (the key, its role and tenant; its id is what `Approval.requestedBy` names),
`Execution.copilot` (the command and explanation of a copilot plan, null otherwise),
and each step run's `dependsOn` and resolved `inputs`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anyio
import pytest

from tests.support.gql import follow_to_end

if TYPE_CHECKING:
    from .conftest import Api

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

VIEWER = "{ viewer { keyId name role tenantId } }"
START = "mutation($g: JSON!) { executeWorkflow(input: {graph: $g}) { id } }"
DETAILS = """query($id: ID!) { execution(id: $id) { status
  copilot { command explanation planner language warnings referenceDate }
  steps(flat: true) { stepId status dependsOn inputs output } } }"""
COPILOT = """mutation($c: String!) { copilotExecute(command: $c,
  context: {referenceDate: "2026-11-24"}) { plan { explanation planner }
  execution { id } } }"""


async def test_viewer_tells_the_keys_role_and_the_id_approvals_name(api: Api) -> None:
    for who, role in (
        ("admin", "ADMIN"),
        ("operator", "OPERATOR"),
        ("viewer", "VIEWER"),
    ):
        viewer = (await api.client(who).data(VIEWER))["viewer"]
        assert (viewer["role"], viewer["tenantId"], viewer["name"]) == (
            role,
            "acme",
            who,
        )
    operator = api.client("operator")
    started = await operator.data(
        START,
        {
            "g": {
                "steps": [
                    {
                        "id": "ok",
                        "agent": "approval_agent",
                        "inputs": {"title": "Hyväksy", "details": "testi"},
                    }
                ]
            }
        },
    )
    execution_id = started["executeWorkflow"]["id"]
    query = "query($id: ID!) { approvals(executionId: $id) { requestedBy } }"
    with anyio.fail_after(30):
        while not (found := await operator.data(query, {"id": execution_id}))[
            "approvals"
        ]:
            await anyio.sleep(0.05)
    me = (await operator.data(VIEWER))["viewer"]
    assert found["approvals"][0]["requestedBy"] == me["keyId"]
    await operator.data(
        "mutation($id: ID!) { cancelExecution(id: $id) { id } }", {"id": execution_id}
    )
    anonymous = await api.client("nobody")(VIEWER)
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_an_execution_keeps_the_copilot_command_it_came_from(api: Api) -> None:
    client = api.client("operator")
    command = "Laske ALV viime kuulta"
    made = (await client.data(COPILOT, {"c": command}))["copilotExecute"]
    execution_id = made["execution"]["id"]
    await follow_to_end(api.url, api.keys["operator"], execution_id)

    copilot = (await client.data(DETAILS, {"id": execution_id}))["execution"]["copilot"]
    assert copilot == {
        "command": command,
        "explanation": made["plan"]["explanation"],
        "planner": made["plan"]["planner"],
        "language": "fi",
        "warnings": [],
        "referenceDate": "2026-11-24",
    }

    plain = await client.data(
        START,
        {
            "g": {
                "steps": [{"id": "w", "agent": "wait_agent", "inputs": {"seconds": 0}}]
            }
        },
    )
    other = await client.data(DETAILS, {"id": plain["executeWorkflow"]["id"]})
    assert other["execution"]["copilot"] is None


async def test_steps_tell_what_they_wait_for_and_the_inputs_they_ran_with(
    api: Api,
) -> None:
    client = api.client("operator")
    graph: dict[str, Any] = {
        "variables": {"n": {"type": "number", "default": 0.05}},
        "steps": [
            {"id": "list", "agent": "echo_agent", "inputs": {"value": [0, 0.01]}},
            {
                "id": "each",
                "for_each": "${steps.list.value}",
                "agent": "wait_agent",
                "inputs": {"seconds": "${item}"},
            },
            {
                "id": "last",
                "agent": "echo_agent",
                "inputs": {"value": "${vars.n}", "text": "after ${steps.list.text}"},
                "depends_on": ["each"],
            },
        ],
    }
    execution_id = (await client.data(START, {"g": graph}))["executeWorkflow"]["id"]
    await follow_to_end(api.url, api.keys["operator"], execution_id)

    execution = (await client.data(DETAILS, {"id": execution_id}))["execution"]
    assert execution["status"] == "SUCCEEDED"
    steps = {s["stepId"]: s for s in execution["steps"]}
    assert {k: s["dependsOn"] for k, s in steps.items()} == {
        "list": [],
        "each": ["list"],
        "each[0]": [],
        "each[1]": [],
        "last": ["list", "each"],
    }
    assert steps["list"]["inputs"] == {"value": [0, 0.01]}
    assert steps["each"]["inputs"] is None
    assert steps["each[1]"]["inputs"] == {"seconds": 0.01}
    assert steps["last"]["inputs"] == {"value": 0.05, "text": "after "}
    assert set(steps["each[1]"]["output"]) == {"waited_s"}
