"""Files agents made (reports) as GraphQL types; the bytes come over REST."""

from __future__ import annotations

import datetime as dt

import strawberry

from ...core.bookkeeping import Artifact as ArtifactRecord

#: Where an artifact's bytes are served (REST, same API key).
DOWNLOAD_PATH = "/api/v1/agent-orchestrator/artifacts/{id}"


@strawberry.type(description="A file an agent made, e.g. a PDF report.")
class Artifact:
    """A stored artifact's metadata and where to download it."""

    id: strawberry.ID
    filename: str
    content_type: str
    size: int = strawberry.field(description="Size in bytes.")
    created_at: dt.datetime | None
    execution_id: strawberry.ID | None
    download_url: str = strawberry.field(
        description="GET it with the same X-API-Key header to receive the file."
    )

    @classmethod
    def of(cls, record: ArtifactRecord, base_url: str) -> Artifact:
        """The GraphQL view of an artifact; `base_url` is the API's own address."""
        return cls(
            id=strawberry.ID(record.id),
            filename=record.filename,
            content_type=record.content_type,
            size=len(record.content),
            created_at=record.created_at,
            execution_id=strawberry.ID(record.execution_id)
            if record.execution_id
            else None,
            download_url=base_url.rstrip("/") + DOWNLOAD_PATH.format(id=record.id),
        )
