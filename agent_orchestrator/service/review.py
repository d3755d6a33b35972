"""The review queue: documents the parsers could not read consistently, held as
drafts; a person corrects them and books them (operators and admins).

A draft counts in no VAT or financial figure. Correcting it applies the same checks as
the parsers (`agents.corrections`) and is refused, naming the field, while a figure
still disagrees; only a draft that passes them can be booked, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..agents import corrections
from ..core.bookkeeping import (
    Draft,
    DraftChange,
    EntryStatus,
    NewLedgerEntry,
)
from ..core.errors import Conflict, Problem, ValidationFailed
from ..core.records import Page
from ..security.permissions import Permission

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from .access import Access
    from .caller import Caller
    from .stores import ReviewRepository

RESOURCE = "document"


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """A document in the queue and whether it may be booked as it stands.

    Attributes:
        draft: The stored document.
        problems: What still keeps it from being booked (empty: it may be booked).
    """

    draft: Draft
    problems: tuple[str, ...]


def _item(draft: Draft) -> ReviewItem:
    _, problems = corrections.check(draft.document)
    return ReviewItem(draft, tuple(str(p) for p in problems))


class Review:
    """The review-queue use cases.

    Args:
        access: Rights and the audit trail.
        repository: Where drafts are kept (the ledger).
    """

    def __init__(self, access: Access, repository: ReviewRepository) -> None:
        self.access = access
        self.repository = repository

    async def queue(
        self, caller: Caller, *, first: int = 20, after: str | None = None
    ) -> Page[ReviewItem]:
        """The tenant's drafts, oldest first.

        Raises:
            Forbidden: The caller is not an operator or admin.
        """
        await self.access.require(
            caller, Permission.REVIEW, "document.review.read", resource_type=RESOURCE
        )
        page = await self.repository.drafts(caller.tenant_id, first=first, after=after)
        return Page(
            [(cursor, _item(draft)) for cursor, draft in page.items],
            has_next=page.has_next,
            has_previous=page.has_previous,
        )

    async def get(self, caller: Caller, entry_id: str) -> ReviewItem:
        """One document of the queue (or booked from it).

        Raises:
            Forbidden: The caller is not an operator or admin.
            NotFound: The tenant has no such document.
        """
        action = "document.review.read"
        async with self.access.guarded(
            caller, Permission.REVIEW, action, RESOURCE, entry_id
        ):
            return _item(await self.repository.draft(entry_id, caller.tenant_id))

    async def correct(
        self, caller: Caller, entry_id: str, changes: Mapping[str, Any]
    ) -> ReviewItem:
        """Correct a draft's fields (``document.correct``, with what changed).

        The corrected document must pass the parsers' checks; a correction that
        leaves a figure in disagreement is refused whole, naming the field.

        Raises:
            Forbidden: The caller is not an operator or admin.
            NotFound: The tenant has no such document.
            ValidationFailed: A malformed value, or figures that still disagree.
            Conflict: The document is booked already.
        """
        action = "document.correct"
        await self.access.require(
            caller,
            Permission.REVIEW,
            action,
            resource_type=RESOURCE,
            resource_id=entry_id,
        )
        if not changes:
            raise ValidationFailed(
                [
                    Problem(
                        "input", "nothing to correct: give at least one field", "empty"
                    )
                ]
            )

        def change(draft: Draft) -> DraftChange:
            _refuse_booked(draft)
            document, changed = corrections.correct(draft.document, changes)
            _, problems = corrections.check(document)
            if problems:
                raise ValidationFailed(
                    problems,
                    "the corrected document still does not add up: "
                    + "; ".join(str(p) for p in problems),
                )
            return DraftChange(
                document=document,
                audit=self.access.entry(
                    caller,
                    action,
                    resource_type=RESOURCE,
                    resource_id=entry_id,
                    details={"changed": changed},
                ),
            )

        return await self._change(caller, action, entry_id, change)

    async def book(self, caller: Caller, entry_id: str) -> ReviewItem:
        """Book a draft that passes the checks (``document.book``); it then counts in
        the VAT and financial figures of its date.

        Raises:
            Forbidden: The caller is not an operator or admin.
            NotFound: The tenant has no such document.
            ValidationFailed: Its figures disagree (each problem names the field):
                correct it first.
            Conflict: It is booked already.
        """
        action = "document.book"
        await self.access.require(
            caller,
            Permission.REVIEW,
            action,
            resource_type=RESOURCE,
            resource_id=entry_id,
        )

        def change(draft: Draft) -> DraftChange:
            _refuse_booked(draft)
            checked, problems = corrections.check(draft.document)
            if checked is None:
                raise ValidationFailed(
                    problems,
                    "the document cannot be booked until it adds up; correct it "
                    "first: " + "; ".join(str(p) for p in problems),
                )
            document = {
                **draft.document,
                "vat_lines": corrections.as_document_lines(checked.lines),
                "needs_review": False,
            }
            merchant = str(document.get("merchant") or "tuntematon")
            return DraftChange(
                document=document,
                booked=NewLedgerEntry(
                    booking_key="",  # the draft keeps its key
                    kind=draft.kind,
                    entry_date=checked.date,
                    counterparty=merchant[:200],
                    business_id=document.get("business_id") or None,
                    account=draft.account,
                    category=draft.category,
                    description=draft.description,
                    gross=checked.total,
                    vat_lines=checked.lines,
                    document_type=draft.document_type,
                    source_file=draft.source_file,
                    execution_id=draft.execution_id,
                ),
                audit=self.access.entry(
                    caller,
                    action,
                    resource_type=RESOURCE,
                    resource_id=entry_id,
                    details={
                        "entry_date": checked.date.isoformat(),
                        "gross": str(checked.total),
                        "account": draft.account,
                    },
                ),
            )

        return await self._change(caller, action, entry_id, change)

    async def _change(
        self,
        caller: Caller,
        action: str,
        entry_id: str,
        change: Callable[[Draft], DraftChange],
    ) -> ReviewItem:
        """Apply `change` to the tenant's draft under the repository's lock; an
        unknown id, a refused change or a booked draft is recorded as a refusal."""
        async with self.access.attempt(caller, action, RESOURCE, entry_id):
            draft = await self.repository.change_draft(
                entry_id, caller.tenant_id, change
            )
        return _item(draft)


def _refuse_booked(draft: Draft) -> None:
    if draft.status is EntryStatus.BOOKED:
        when = draft.updated_at.isoformat() if draft.updated_at else "earlier"
        raise Conflict(
            f"document {draft.id} is already booked ({when}); booking or correcting "
            "it again would change the books. Book a correcting entry instead"
        )
