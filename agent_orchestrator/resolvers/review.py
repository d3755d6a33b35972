"""The review queue: documents held as drafts, their correction and booking."""

from __future__ import annotations

import re

import strawberry

from ..core.errors import Problem, ValidationFailed
from ..schema.context import Info
from ..schema.types.relay import Connection
from ..schema.types.review import DocumentCorrectionInput, ReviewDocument

_SNAKE = re.compile(r"_([a-z])")


def graphql_problems(exc: ValidationFailed) -> ValidationFailed:
    """The same refusal with paths in the input's spelling (``input.vatLines[0]``)."""
    problems = [
        Problem(
            f"input.{_SNAKE.sub(lambda m: m.group(1).upper(), p.path)}",
            p.message,
            p.code,
        )
        for p in exc.problems
    ]
    message = str(exc)
    for old, new in zip(exc.problems, problems, strict=True):
        message = message.replace(f"{old.path}:", f"{new.path}:")
    return ValidationFailed(problems, message)


@strawberry.type
class ReviewQuery:
    """Reading the review queue (operators and admins)."""

    # Strawberry types its decorators called with arguments as returning Any.
    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Documents held for review (drafts), oldest first."
    )
    async def review_queue(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> Connection[ReviewDocument]:
        page = await info.context.services.review.queue(
            info.context.caller, first=first, after=after
        )
        return Connection[ReviewDocument].from_page(page, ReviewDocument.of)

    @strawberry.field(description="One document of the review queue.")  # type: ignore[untyped-decorator]
    async def review_document(self, info: Info, id: strawberry.ID) -> ReviewDocument:
        item = await info.context.services.review.get(info.context.caller, str(id))
        return ReviewDocument.of(item)


@strawberry.type
class ReviewMutation:
    """Correcting and booking documents held for review (operators and admins)."""

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        description="Correct a draft's fields; refused, naming the field, while its "
        "figures disagree (net + VAT = gross, the rate in force, lines = total)."
    )
    async def correct_document(
        self, info: Info, id: strawberry.ID, input: DocumentCorrectionInput
    ) -> ReviewDocument:
        try:
            item = await info.context.services.review.correct(
                info.context.caller, str(id), input.changes()
            )
        except ValidationFailed as exc:
            raise graphql_problems(exc) from exc
        return ReviewDocument.of(item)

    @strawberry.mutation(  # type: ignore[untyped-decorator]
        description="Book a draft whose figures agree; it then counts in the VAT and "
        "financial figures. Booking twice is refused (CONFLICT)."
    )
    async def book_document(self, info: Info, id: strawberry.ID) -> ReviewDocument:
        try:
            item = await info.context.services.review.book(info.context.caller, str(id))
        except ValidationFailed as exc:
            raise graphql_problems(exc) from exc
        return ReviewDocument.of(item)
