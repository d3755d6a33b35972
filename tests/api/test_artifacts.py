"""Report artifacts over the real server: made by the financial_report template, served
to the owning tenant's keys only (another tenant's id is a 404, never a 403)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import pypdf
import pytest

from agent_orchestrator.core.bookkeeping import EntryKind, NewLedgerEntry, VatLine
from agent_orchestrator.store.database import create_database
from agent_orchestrator.store.ledger import SqlLedgerStore

if TYPE_CHECKING:
    from .conftest import Api

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
BASE = "/api/v1/agent-orchestrator"
NBSP = "\u00a0"
# (day, kind, category, account, net, vat at 25.5 %)
BOOKED = [
    ("2026-10-02", EntryKind.INCOME, "sales", "3000", "12000.00", "3060.00"),
    ("2026-10-14", EntryKind.EXPENSE, "rent", "7000", "1500.00", "382.50"),
    ("2026-10-21", EntryKind.EXPENSE, "marketing", "7700", "640.00", "163.20"),
]


def http(api: Api, who: str | None) -> httpx.AsyncClient:
    headers = {"X-API-Key": api.keys[who]} if who else {}
    return httpx.AsyncClient(base_url=api.url, headers=headers, timeout=30)


async def book(api: Api) -> None:
    async with create_database(api.database_url) as db:
        await SqlLedgerStore(db).book(
            "acme",
            [
                NewLedgerEntry(
                    booking_key=f"api-artifacts:{day}",
                    kind=kind,
                    entry_date=dt.date.fromisoformat(day),
                    counterparty="Asiakas Oy",
                    account=account,
                    category=category,
                    description=category,
                    gross=Decimal(net) + Decimal(vat),
                    vat_lines=(
                        VatLine(
                            Decimal("25.5"),
                            Decimal(net),
                            Decimal(vat),
                            Decimal(net) + Decimal(vat),
                        ),
                    ),
                )
                for day, kind, category, account, net, vat in BOOKED
            ],
        )


async def gql(api: Api, who: str, query: str, variables: Any = None) -> dict[str, Any]:
    async with http(api, who) as client:
        response = await client.post(
            "/graphql", json={"query": query, "variables": variables or {}}
        )
    return dict(response.json())


async def run_report(api: Api, format: str) -> dict[str, Any]:
    """Run financial_report over GraphQL as an operator; the execution's result."""
    started = await gql(
        api,
        "operator",
        "mutation($v: JSON) { executeWorkflow(input: {templateId: "
        '"financial_report", initialVariables: $v}) { id } }',
        {
            "v": {
                "period_start": "2026-10-01",
                "period_end": "2026-10-31",
                "format": format,
            }
        },
    )
    assert not started.get("errors"), started
    execution_id = started["data"]["executeWorkflow"]["id"]
    with anyio.fail_after(60):
        while True:
            body = await gql(
                api,
                "viewer",
                "query($id: ID!) { execution(id: $id) { status errorMessage result } }",
                {"id": execution_id},
            )
            execution = body["data"]["execution"]
            if execution["status"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
                break
            await anyio.sleep(0.1)
    assert execution["status"] == "SUCCEEDED", execution
    return dict(execution["result"])


@pytest.fixture(scope="module")
def pdf_report(api: Api) -> dict[str, Any]:
    async def make() -> dict[str, Any]:
        await book(api)
        return await run_report(api, "pdf")

    return anyio.run(make)


def figures() -> dict[str, Decimal]:
    income = sum(
        (Decimal(r[4]) for r in BOOKED if r[1] is EntryKind.INCOME), Decimal(0)
    )
    expenses = sum(
        (Decimal(r[4]) for r in BOOKED if r[1] is EntryKind.EXPENSE), Decimal(0)
    )
    return {"income": income, "expenses": expenses, "result": income - expenses}


async def test_the_owner_downloads_the_pdf(
    api: Api, pdf_report: dict[str, Any]
) -> None:
    url = f"{BASE}/artifacts/{pdf_report['artifact_id']}"
    for who in ("operator", "viewer", "admin"):
        async with http(api, who) as client:
            response = await client.get(url)
        assert response.status_code == 200, (who, response.text)
        assert response.headers["content-type"] == "application/pdf"
        disposition = response.headers["content-disposition"]
        assert disposition.startswith("attachment;")
        assert 'filename="talousraportti_2026-10-01_2026-10-31.pdf"' in disposition
        assert response.headers["cache-control"] == "private, no-store"
    assert pdf_report["filename"] == "talousraportti_2026-10-01_2026-10-31.pdf"
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    text = "\n".join(p.extract_text() for p in reader.pages).replace(NBSP, " ")
    for name, value in figures().items():
        shown = f"{value:,.2f}".replace(",", " ").replace(".", ",") + " €"
        assert shown in text, name
        assert pdf_report["totals"][name] == float(value)


async def test_another_tenant_and_unknown_ids_get_404(
    api: Api, pdf_report: dict[str, Any]
) -> None:
    async with http(api, "other") as client:
        foreign = await client.get(f"{BASE}/artifacts/{pdf_report['artifact_id']}")
    async with http(api, "admin") as client:
        unknown = await client.get(
            f"{BASE}/artifacts/{'0' * 8}-0000-0000-0000-{'0' * 12}"
        )
    for response in (foreign, unknown):
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/json"
        assert "not found" in response.json()["error"]["message"]
        assert b"%PDF" not in response.content


async def test_no_key_gets_401(api: Api, pdf_report: dict[str, Any]) -> None:
    async with http(api, None) as client:
        response = await client.get(f"{BASE}/artifacts/{pdf_report['artifact_id']}")
    assert response.status_code == 401
    assert b"%PDF" not in response.content


QUERY = """query($id: ID!) {
  artifact(id: $id) { id filename contentType size createdAt executionId downloadUrl }
}"""


async def test_artifact_query(api: Api, pdf_report: dict[str, Any]) -> None:
    artifact_id = pdf_report["artifact_id"]
    body = await gql(api, "viewer", QUERY, {"id": artifact_id})
    assert not body.get("errors"), body
    found = body["data"]["artifact"]
    assert found["id"] == artifact_id
    assert found["filename"] == pdf_report["filename"]
    assert found["contentType"] == "application/pdf"
    assert found["executionId"] and found["createdAt"]
    assert found["downloadUrl"] == f"{api.url}{BASE}/artifacts/{artifact_id}"
    async with http(api, "viewer") as client:
        download = await client.get(found["downloadUrl"])
    assert download.status_code == 200 and len(download.content) == found["size"]
    foreign = await gql(api, "other", QUERY, {"id": artifact_id})
    assert foreign["data"] is None
    assert foreign["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_text_formats_are_served_as_text(api: Api) -> None:
    result = await run_report(api, "csv")
    async with http(api, "viewer") as client:
        response = await client.get(f"{BASE}/artifacts/{result['artifact_id']}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.text == result["content"]
    assert response.text.startswith("section,id,name,current,previous")
