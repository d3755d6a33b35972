"""Side effects already carried out (``agent_outbox``); implements
`core.bookkeeping.Outbox` so that a retried or resumed step does not e-mail twice."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ..core.ids import utcnow
from .conflicts import insert_or_skip
from .models import OutboxRow, table_of

if TYPE_CHECKING:
    from .database import Database

outbox = table_of(OutboxRow)


class SqlOutbox:
    """The outbox in SQL, keyed by tenant and idempotency key."""

    def __init__(self, database: Database) -> None:
        self.db = database

    async def done(self, tenant_id: str, key: str) -> dict[str, Any] | None:
        """The result recorded for `key`, or None if it was not done yet."""
        query = select(outbox.c.result).where(
            outbox.c.tenant_id == tenant_id, outbox.c.key == key
        )
        async with self.db.read() as conn:
            result = (await conn.execute(query)).scalar()
        return None if result is None else dict(result)

    async def record(self, tenant_id: str, key: str, result: dict[str, Any]) -> None:
        """Record that `key` was done with `result`; recording again keeps the first."""
        row = {
            "tenant_id": tenant_id,
            "key": key,
            "result": json.loads(json.dumps(result, default=str)),
            "created_at": utcnow(),
        }
        async with self.db.write() as conn:
            await conn.execute(
                insert_or_skip(self.db, outbox, ["tenant_id", "key"]), [row]
            )
