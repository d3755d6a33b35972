"""Documents held for review as GraphQL types, and the correction input."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from ...service.review import ReviewItem  # noqa: TC001 (read at run time)
from ..scalars import JSON


@strawberry.type(description="One VAT rate's figures as read or corrected.")
class ReviewVatLine:
    """A VAT line of a document in review (null: not printed or not read)."""

    rate: float | None
    net: float | None
    vat: float | None
    gross: float | None


def _number(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


@strawberry.type(description="A document the parser could not read consistently.")
class ReviewDocument:
    """A draft ledger entry (or one booked from the queue): its fields as read, why
    it was held, and where it came from."""

    id: strawberry.ID
    status: str = strawberry.field(description="draft, or booked once booked.")
    document_type: str
    kind: str
    merchant: str | None
    business_id: str | None
    date: str | None = strawberry.field(description="ISO date; null when not read.")
    total: float | None
    vat_lines: list[ReviewVatLine]
    fields: JSON = strawberry.field(description="Every field as read or corrected.")
    warnings: list[str] = strawberry.field(description="Why it was held for review.")
    problems: list[str] = strawberry.field(
        description="What still keeps it from being booked (empty: it can be booked)."
    )
    can_book: bool
    account: str
    category: str
    source_file: str | None
    execution_id: strawberry.ID | None
    step_id: str | None
    created_at: dt.datetime
    updated_at: dt.datetime | None

    @classmethod
    def of(cls, item: ReviewItem) -> ReviewDocument:
        """The GraphQL view of a queue item."""
        draft, document = item.draft, item.draft.document
        lines = document.get("vat_lines") or []
        return cls(
            id=strawberry.ID(draft.id),
            status=draft.status.value,
            document_type=draft.document_type,
            kind=draft.kind.value,
            merchant=document.get("merchant"),
            business_id=document.get("business_id"),
            date=str(document["date"]) if document.get("date") else None,
            total=_number(document.get("total")),
            vat_lines=[
                ReviewVatLine(
                    rate=_number(line.get("rate")),
                    net=_number(line.get("net")),
                    vat=_number(line.get("vat")),
                    gross=_number(line.get("gross")),
                )
                for line in lines
                if isinstance(line, dict)
            ],
            fields=JSON(dict(document)),
            warnings=list(draft.warnings),
            problems=list(item.problems),
            can_book=not item.problems,
            account=draft.account,
            category=draft.category,
            source_file=draft.source_file,
            execution_id=strawberry.ID(draft.execution_id)
            if draft.execution_id
            else None,
            step_id=draft.step_id,
            created_at=draft.created_at,
            updated_at=draft.updated_at,
        )


@strawberry.input(description="A VAT line: the rate and at least two of its amounts.")
class VatLineInput:
    """Amounts are decimal text in euros with at most two decimals ("12.55")."""

    rate: str
    net: str | None = None
    vat: str | None = None
    gross: str | None = None


@strawberry.input(description="The fields to correct; the others stay as they are.")
class DocumentCorrectionInput:
    """Amounts are decimal text in euros with at most two decimals ("12.55"); the
    date is ISO (YYYY-MM-DD); `vatLines` replaces every line."""

    merchant: str | None = strawberry.UNSET
    business_id: str | None = strawberry.UNSET
    date: str | None = strawberry.UNSET
    total: str | None = strawberry.UNSET
    vat_lines: list[VatLineInput] | None = strawberry.UNSET

    def changes(self) -> dict[str, Any]:
        """The fields given, by the document's names."""
        given: dict[str, Any] = {}
        for name in ("merchant", "business_id", "date", "total"):
            value = getattr(self, name)
            if value is not strawberry.UNSET:
                given[name] = value
        if self.vat_lines is not strawberry.UNSET:
            given["vat_lines"] = (
                None
                if self.vat_lines is None
                else [
                    {"rate": v.rate, "net": v.net, "vat": v.vat, "gross": v.gross}
                    for v in self.vat_lines
                ]
            )
        return given
