"""Files agents made (``agent_artifacts``), e.g. PDF reports; implements
`core.bookkeeping.ArtifactStore`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select

from ..core.bookkeeping import Artifact
from ..core.errors import NotFound
from ..core.ids import as_utc, new_id, utcnow
from .conflicts import insert_or_skip
from .models import ArtifactRow, table_of

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .database import Database

artifacts = table_of(ArtifactRow)


class SqlArtifactStore:
    """Artifacts in SQL, each readable by its own tenant only."""

    def __init__(self, database: Database) -> None:
        self.db = database

    async def save(
        self,
        tenant_id: str,
        filename: str,
        content_type: str,
        content: bytes,
        *,
        execution_id: str | None = None,
        key: str | None = None,
    ) -> Artifact:
        """Store an artifact; saving again with the same `key` (say, a retried step's
        idempotency key) returns the first one unchanged."""
        row = {
            "id": new_id(),
            "tenant_id": tenant_id,
            "key": key,
            "filename": filename,
            "content_type": content_type,
            "content": bytes(content),
            "size": len(content),
            "execution_id": execution_id,
            "created_at": utcnow(),
        }
        async with self.db.write() as conn:
            if key is None:
                await conn.execute(insert(artifacts), [row])
                return artifact(row)
            await conn.execute(
                insert_or_skip(self.db, artifacts, ["tenant_id", "key"]), [row]
            )
            stored = (
                (
                    await conn.execute(
                        select(artifacts).where(
                            artifacts.c.tenant_id == tenant_id,
                            artifacts.c.key == key,
                        )
                    )
                )
                .mappings()
                .one()
            )
            return artifact(stored)

    async def get(self, artifact_id: str, tenant_id: str) -> Artifact:
        """The artifact.

        Raises:
            NotFound: No such artifact, or it is another tenant's.
        """
        query = select(artifacts).where(
            artifacts.c.id == artifact_id, artifacts.c.tenant_id == tenant_id
        )
        async with self.db.read() as conn:
            row = (await conn.execute(query)).mappings().first()
        if row is None:
            raise NotFound(
                f"artifact {artifact_id} not found; it may belong to another tenant "
                "or the id may be mistyped"
            )
        return artifact(row)


def artifact(row: Mapping[Any, Any]) -> Artifact:
    """An `Artifact` from a row."""
    return Artifact(
        id=row["id"],
        tenant_id=row["tenant_id"],
        filename=row["filename"],
        content_type=row["content_type"],
        content=bytes(row["content"]),
        execution_id=row["execution_id"],
        created_at=as_utc(row["created_at"]),
    )
