"""The review queue over REST, thin over the same use cases as `reviewQueue`,
`correctDocument` and `bookDocument`: ``GET /review``, ``GET /review/{id}``,
``PATCH /review/{id}`` (a JSON object of the fields to correct) and
``POST /review/{id}/book``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..core.errors import Problem, ValidationFailed
from ..security.permissions import Permission
from ..service.caller import Caller
from ..service.container import Services
from ..service.review import ReviewItem
from .rest import PREFIX, endpoint, json_body


def review_json(item: ReviewItem) -> dict[str, Any]:
    """A queue item as the REST API shows it (snake_case)."""
    draft = item.draft
    return {
        "id": draft.id,
        "status": draft.status.value,
        "document_type": draft.document_type,
        "kind": draft.kind.value,
        "fields": dict(draft.document),
        "warnings": list(draft.warnings),
        "problems": list(item.problems),
        "can_book": not item.problems,
        "account": draft.account,
        "category": draft.category,
        "source_file": draft.source_file,
        "execution_id": draft.execution_id,
        "step_id": draft.step_id,
        "created_at": draft.created_at.isoformat(),
        "updated_at": draft.updated_at.isoformat() if draft.updated_at else None,
    }


@endpoint
async def review_queue(
    request: Request, services: Services, caller: Caller
) -> JSONResponse:
    raw = request.query_params.get("first", "20")
    if not raw.isdigit():
        raise ValidationFailed([Problem("first", "must be a whole number, 1 to 100")])
    page = await services.review.queue(
        caller, first=int(raw), after=request.query_params.get("after") or None
    )
    return JSONResponse(
        {
            "documents": [review_json(item) for _, item in page.items],
            "has_next": page.has_next,
            "end_cursor": page.items[-1][0] if page.items else None,
        }
    )


@endpoint
async def review_document(
    request: Request, services: Services, caller: Caller
) -> JSONResponse:
    item = await services.review.get(caller, request.path_params["entry_id"])
    return JSONResponse(review_json(item))


@endpoint
async def correct_document(
    request: Request, services: Services, caller: Caller
) -> JSONResponse:
    entry_id = request.path_params["entry_id"]
    # A caller without the right is refused before its body is read.
    await services.access.require(
        caller,
        Permission.REVIEW,
        "document.correct",
        resource_type="document",
        resource_id=entry_id,
    )
    changes = await json_body(request)
    item = await services.review.correct(caller, entry_id, changes)
    return JSONResponse(review_json(item))


@endpoint
async def book_document(
    request: Request, services: Services, caller: Caller
) -> JSONResponse:
    item = await services.review.book(caller, request.path_params["entry_id"])
    return JSONResponse(review_json(item))


def review_routes() -> list[Route]:
    """The review queue's REST routes."""
    return [
        Route(f"{PREFIX}/review", review_queue, methods=["GET"]),
        Route(f"{PREFIX}/review/{{entry_id}}", review_document, methods=["GET"]),
        Route(f"{PREFIX}/review/{{entry_id}}", correct_document, methods=["PATCH"]),
        Route(f"{PREFIX}/review/{{entry_id}}/book", book_document, methods=["POST"]),
    ]
