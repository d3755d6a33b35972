"""`categorizer_agent`: the chart of accounts, its keyword rules and the model path."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

import pytest

from agent_orchestrator.agents.categorizer import (
    CategorizerAgent,
    CategorizerInput,
    Lemmatizer,
    load_chart,
)
from agent_orchestrator.agents.resources import AgentResources
from agent_orchestrator.config import Settings
from agent_orchestrator.core.protocols import AgentContext
from tests.support.fake_openai import Status, completion, fake_openai

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tests.support.fake_openai import FakeOpenAI

pytestmark = pytest.mark.anyio


def context() -> AgentContext:
    async def progress(
        message: str, fraction: float | None, data: Mapping[str, Any] | None
    ) -> None:
        del message, fraction, data

    return AgentContext(
        tenant_id="acme",
        execution_id="exec-1",
        step_id="categorize",
        agent_id="categorizer_agent",
        attempt=1,
        logger=logging.getLogger("test.categorizer"),
        progress=progress,
    )


def settings(fake: FakeOpenAI | None = None) -> Settings:
    values: dict[str, Any] = {"openai_api_key": None, "openai_model": "gpt-test"}
    if fake is not None:
        values |= {"openai_api_key": fake.api_key, "openai_base_url": fake.base_url}
    return Settings(_env_file=None, **values)


def agent(config: Settings | None = None) -> CategorizerAgent:
    return CategorizerAgent(AgentResources(model=(config or settings()).openai))


async def categorise(document: dict[str, Any], **inputs: Any) -> Any:
    return await agent(inputs.pop("config", None)).run(
        CategorizerInput(document=document, **inputs), context()
    )


def test_the_chart_is_shipped_complete() -> None:
    chart = load_chart()
    ids = [c.id for c in chart.categories]
    assert len(ids) == len(set(ids))
    assert len({c.account for c in chart.categories}) == len(ids)
    for needed in (
        "office_supplies",
        "it_software",
        "telecom",
        "travel",
        "fuel",
        "representation",
        "rent",
        "electricity",
        "accounting",
        "insurance",
        "bank_fees",
        "marketing",
        "other",
        "sales",
    ):
        category = chart[needed]
        assert category.account.isdigit() and len(category.account) == 4
        assert category.fi and category.en
        assert category.vat_rate in (25.5, 14, 13.5, 10, 0)
    assert chart[chart.fallback].id == "other"
    assert chart[chart.sales].kind == "INCOME"
    # Entertainment VAT may not be deducted (AVL 114 §); the rest may.
    assert not chart["representation"].vat_deductible
    assert chart["fuel"].vat_deductible


@pytest.mark.parametrize(
    ("merchant", "category", "account"),
    [
        ("NESTE Espoo Leppävaara", "fuel", "7300"),
        ("St1 Vantaa", "fuel", "7300"),
        ("ABC Hyvinkää", "fuel", "7300"),
        ("Elisa Oyj", "telecom", "7830"),
        ("Telia Finland Oyj", "telecom", "7830"),
        ("DNA Oyj", "telecom", "7830"),
        ("VR-Yhtymä Oyj", "travel", "7500"),
        ("Finnair Oyj", "travel", "7500"),
        ("Helen Oy", "electricity", "7010"),
        ("Fortum Markets Oy", "electricity", "7010"),
        ("K-Market Kamppi", "meetings", "7640"),
        ("LIDL Helsinki Itäkeskus", "meetings", "7640"),
        ("Ravintola Savoy", "representation", "7620"),
        ("Verkkokauppa.com Oyj", "it_software", "7840"),
        ("Lyreco Finland Oy", "office_supplies", "7850"),
        ("Tilitoimisto Numerot Oy", "accounting", "7810"),
        ("LähiTapiola Keskinäinen Vakuutusyhtiö", "insurance", "7880"),
    ],
)
async def test_known_merchants_get_their_category(
    merchant: str, category: str, account: str
) -> None:
    result = await categorise({"merchant": merchant, "items": []})
    assert (result.category, result.account) == (category, account)
    assert result.category_name == load_chart()[category].fi
    assert result.confidence >= 0.85
    assert result.rule and result.rule.startswith("merchant:")


@pytest.mark.parametrize(
    ("items", "category"),
    [
        (["Toimiston vuokra, lokakuu"], "rent"),  # vuokra in the genitive
        (["Sähkölaskut 10/2026"], "electricity"),  # a compound, plural
        (["Polttoaineet"], "fuel"),
        (["Kopiopaperia A4 5 riisiä", "Kyniä 10 kpl"], "office_supplies"),
        (["Ohjelmistolisenssi 12 kk"], "it_software"),
        (["Laajakaistaliittymän kuukausimaksu"], "telecom"),
        (["Taksimatka lentoasemalle"], "travel"),
        (["Mainoskampanja"], "marketing"),
        (["Tilinpäätöksen laatiminen"], "accounting"),
        (["Yrityksen vastuuvakuutus"], "insurance"),
    ],
)
async def test_item_words_decide_by_their_base_forms(
    items: list[str], category: str
) -> None:
    document = {
        "merchant": "Palvelu Oy",
        "items": [{"description": d, "amount": 10.0} for d in items],
    }
    result = await categorise(document)
    assert result.category == category
    assert 0.4 <= result.confidence < 0.85
    assert result.rule and result.rule.startswith("word:")


async def test_case_and_diacritics_do_not_matter() -> None:
    upper = await categorise({"merchant": "X", "items": [{"description": "SÄHKÖ"}]})
    plain = await categorise({"merchant": "X", "items": [{"description": "sahko"}]})
    assert upper.category == plain.category == "electricity"


async def test_an_unknown_document_falls_back_to_other_with_low_confidence() -> None:
    result = await categorise(
        {"merchant": "Qwerty Zxcv Oy", "items": [{"description": "Xyzzy 3 kpl"}]}
    )
    assert (result.category, result.account) == ("other", "7990")
    assert result.confidence < 0.5 and result.rule is None
    assert (await categorise({})).category == "other"


async def test_use_llm_without_a_key_uses_the_rules() -> None:
    result = await categorise({"merchant": "Neste Espoo"}, use_llm=True)
    assert result.category == "fuel" and result.rule == "merchant:neste"


async def test_use_llm_asks_the_model_to_choose_among_the_chart() -> None:
    with fake_openai() as fake:
        fake.reply(json.dumps({"category": "marketing", "confidence": 0.8}))
        result = await categorise(
            {"merchant": "Mediatalo Oy", "items": [{"description": "Lehti-ilmoitus"}]},
            use_llm=True,
            config=settings(fake),
        )
    assert (result.category, result.account) == ("marketing", "7700")
    assert result.rule == "llm:gpt-test" and result.confidence == 0.8
    (request,) = fake.requests
    assert request["model"] == "gpt-test"
    system = request["messages"][0]["content"]
    assert "office_supplies" in system and "representation" in system
    assert "sales" not in system.split(":", 1)[1].split()  # only expense categories
    assert "Mediatalo Oy" in request["messages"][1]["content"]


@pytest.mark.parametrize(
    "reply",
    [
        json.dumps({"category": "bitcoin_mining", "confidence": 0.99}),
        json.dumps({"category": "sales", "confidence": 0.9}),
        Status(500),
        completion(None, refusal="I cannot help with that."),
    ],
    ids=["unknown-category", "not-an-expense", "server-error", "refusal"],
)
async def test_an_unusable_model_answer_falls_back_to_the_rules(reply: Any) -> None:
    with fake_openai() as fake:
        fake.reply(reply)
        result = await categorise(
            {"merchant": "Neste Espoo"}, use_llm=True, config=settings(fake)
        )
    assert result.category == "fuel" and result.rule == "merchant:neste"
    # One call: the client does not retry; the rules answer instead.
    assert len(fake.requests) == 1


async def test_health_reports_voikko() -> None:
    health = await agent().health()
    assert health.ok and health.checks["voikko"] is True
    assert Lemmatizer().forms("sähkölaskut") >= {"sahkolasku", "sahko", "lasku"}
