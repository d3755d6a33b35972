"""Documents held for review over the real server, on SQLite and PostgreSQL: a receipt
whose VAT row was mangled runs through `receipt_processing`, ends as a draft (not in
the VAT report), shows in `reviewQueue` and REST; a viewer cannot correct it; a
correction that still does not add up is refused naming the field; a correct one, then
booking, moves it into the VAT report's figures; both are audited, booking twice is a
conflict."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.support.documents import mangled_receipt
from tests.support.gql import follow_to_end

if TYPE_CHECKING:
    from tests.support.documents import Document

    from .conftest import Api

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
BASE = "/api/v1/agent-orchestrator"
FIELDS = """id status merchant date total warnings problems canBook sourceFile
executionId stepId vatLines { rate net vat gross }"""
CORRECT = f"""mutation($id: ID!, $input: DocumentCorrectionInput!) {{
  correctDocument(id: $id, input: $input) {{ {FIELDS} }} }}"""
BOOK = f"mutation($id: ID!) {{ bookDocument(id: $id) {{ {FIELDS} }} }}"
QUEUE = f"""query {{ reviewQueue(first: 50) {{ edges {{ node {{ {FIELDS} }} }}
  pageInfo {{ hasNextPage }} }} }}"""


async def run_template(api: Api, template: str, variables: dict[str, Any]) -> Any:
    """Start a template as the operator, follow its events to the end, and return
    the finished execution."""
    client = api.client("operator")
    started = await client.data(
        "mutation($t: String!, $v: JSON) { executeWorkflow(input: {templateId: $t, "
        "initialVariables: $v}) { id } }",
        {"t": template, "v": variables},
    )
    execution_id = started["executeWorkflow"]["id"]
    await follow_to_end(api.url, api.keys["operator"], execution_id)
    data = await client.data(
        "query($id: ID!) { execution(id: $id) { id status errorMessage result "
        "steps { stepId status } } }",
        {"id": execution_id},
    )
    return data["execution"]


async def steps_of(api: Api, execution_id: str) -> list[dict[str, Any]]:
    data = await api.client("admin").data(
        "query($id: ID!) { execution(id: $id) { steps { stepId output } } }",
        {"id": execution_id},
    )
    return list(data["execution"]["steps"])


async def vat_of(api: Api, doc: Document) -> dict[str, Any]:
    day = doc.date.isoformat()
    done = await run_template(
        api, "vat_report", {"period_start": day, "period_end": day}
    )
    assert done["status"] == "SUCCEEDED", done
    return dict(done["result"])


def rest(api: Api, who: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=api.url, headers={"X-API-Key": api.keys[who]}, timeout=30
    )


async def test_a_mangled_receipt_is_held_corrected_and_booked(api: Api) -> None:
    doc, text = mangled_receipt()
    row = doc.vat_rows[0]
    area = api.files_dir / "acme" / "review"
    area.mkdir(parents=True, exist_ok=True)
    (area / "kuitti-mangled.txt").write_text(text, encoding="utf-8")
    name = "review/kuitti-mangled.txt"

    done = await run_template(api, "receipt_processing", {"receipt_file": name})
    assert done["status"] == "SUCCEEDED", done
    assert done["result"]["receipt"]["needs_review"] is True
    [draft_id] = done["result"]["entry_ids"]
    # Messages about it (the template's notification) say it was held, not booked.
    [book] = [s for s in await steps_of(api, done["id"]) if s["stepId"] == "book"]
    assert book["output"]["status"] == "draft"
    assert book["output"]["outcome_fi"] == "tallennettu luonnokseksi tarkistettavaksi"
    assert book["output"]["outcome_en"] == "held as a draft for review"
    before = await vat_of(api, doc)
    assert before["deductible_vat"] == 0 and before["rates"] == []

    operator = api.client("operator")
    queue = (await operator.data(QUEUE))["reviewQueue"]["edges"]
    [item] = [e["node"] for e in queue if e["node"]["id"] == draft_id]
    assert item["status"] == "draft" and item["canBook"] is False
    assert item["sourceFile"] == name and item["stepId"] == "book"
    assert item["executionId"]
    assert item["total"] == float(doc.total) and item["merchant"] == doc.merchant
    assert item["vatLines"] == []
    assert any("left out" in w for w in item["warnings"]), item["warnings"]
    # The other tenant's queue does not show it; a viewer may not read the queue.
    other = (await api.client("other").data(QUEUE))["reviewQueue"]["edges"]
    assert draft_id not in {e["node"]["id"] for e in other}
    viewer_queue = await api.client("viewer")(QUEUE)
    assert viewer_queue["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    async with rest(api, "operator") as client:
        listed = (await client.get(f"{BASE}/review")).json()
    [rest_item] = [d for d in listed["documents"] if d["id"] == draft_id]
    assert rest_item["status"] == "draft" and rest_item["source_file"] == name
    assert rest_item["step_id"] == "book" and rest_item["warnings"] == item["warnings"]

    line = {
        "rate": str(row.rate),
        "net": str(row.net),
        "vat": str(row.vat),
        "gross": str(row.gross),
    }
    # A viewer cannot correct (GraphQL and REST).
    refused = await api.client("viewer")(
        CORRECT, {"id": draft_id, "input": {"vatLines": [line]}}
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    async with rest(api, "viewer") as client:
        response = await client.patch(
            f"{BASE}/review/{draft_id}", json={"vat_lines": [line]}
        )
    assert response.status_code == 403

    # Booking before it adds up is refused, naming the field.
    early = await operator(BOOK, {"id": draft_id})
    assert early["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED"
    assert "input.vatLines" in early["errors"][0]["message"]

    # A correction that still does not add up is refused whole, naming the field.
    wrong = {**line, "gross": str(row.gross + Decimal("1.00"))}
    bad = await operator(CORRECT, {"id": draft_id, "input": {"vatLines": [wrong]}})
    error = bad["errors"][0]
    assert error["extensions"]["code"] == "VALIDATION_FAILED"
    assert [p["path"] for p in error["extensions"]["problems"]] == [
        "input.vatLines[0].gross"
    ]
    async with rest(api, "operator") as client:
        response = await client.patch(
            f"{BASE}/review/{draft_id}",
            json={"vat_lines": [{**line, "vat": "1.234"}]},
        )
    assert response.status_code == 422
    assert response.json()["error"]["problems"][0]["path"] == "vat_lines[0].vat"
    unchanged = (await operator.data(QUEUE))["reviewQueue"]["edges"]
    assert [
        e["node"]["vatLines"] for e in unchanged if e["node"]["id"] == draft_id
    ] == [[]]
    assert (await vat_of(api, doc))["deductible_vat"] == 0

    corrected = await operator.data(
        CORRECT, {"id": draft_id, "input": {"vatLines": [line]}}
    )
    fixed = corrected["correctDocument"]
    assert fixed["canBook"] is True and fixed["status"] == "draft"
    # Corrected but not booked: still outside the VAT figures.
    assert (await vat_of(api, doc))["deductible_vat"] == 0

    async with rest(api, "operator") as client:
        response = await client.post(f"{BASE}/review/{draft_id}/book")
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "booked"
        twice = await client.post(f"{BASE}/review/{draft_id}/book")
    assert twice.status_code == 409
    assert "already booked" in twice.json()["error"]["message"]
    again = await operator(BOOK, {"id": draft_id})
    assert again["errors"][0]["extensions"]["code"] == "CONFLICT"

    after = await vat_of(api, doc)
    assert Decimal(str(after["deductible_vat"])) == row.vat
    [figures] = after["rates"]
    assert Decimal(str(figures["rate"])) == row.rate
    assert Decimal(str(figures["purchases_net"])) == row.net
    remaining = (await operator.data(QUEUE))["reviewQueue"]["edges"]
    assert draft_id not in {e["node"]["id"] for e in remaining}

    audit = await api.client("admin").data(
        'query { auditLogs(first: 50, filter: {resourceType: "document"}) { '
        "edges { node { action resourceId details } } } }"
    )
    entries = [
        e["node"]
        for e in audit["auditLogs"]["edges"]
        if e["node"]["resourceId"] == draft_id
    ]
    results = sorted((e["action"], e["details"].get("reason") is None) for e in entries)
    assert ("document.correct", True) in results and ("document.book", True) in results
    [correction] = [
        e
        for e in entries
        if e["action"] == "document.correct" and "changed" in e["details"]
    ]
    assert correction["details"]["changed"]["vat_lines"]["from"] == []
    assert correction["details"]["changed"]["vat_lines"]["to"] == [
        {k: float(v) for k, v in line.items()}
    ]
    [booking] = [
        e for e in entries if e["action"] == "document.book" and "gross" in e["details"]
    ]
    assert booking["details"]["gross"] == str(doc.total)
