"""Checking keys: a remembered key costs no query; when it must be read again, the
requests presenting it meanwhile share one read; revocation and expiry still hold."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import anyio
import pytest

from agent_orchestrator.core.enums import Role
from agent_orchestrator.core.errors import Unauthenticated
from agent_orchestrator.core.ids import utcnow
from agent_orchestrator.security.api_keys import INVALID_KEY, ApiKeyService
from agent_orchestrator.security.keys import generate_key
from agent_orchestrator.store.api_keys import ApiKeyStore

if TYPE_CHECKING:
    from agent_orchestrator.core.auth import ApiKeyRecord
    from agent_orchestrator.store.database import Database

pytestmark = pytest.mark.anyio


class CountingStore(ApiKeyStore):
    """The real store, counting its reads by hash."""

    reads = 0

    async def by_hash(self, key_hash: str) -> ApiKeyRecord | None:
        self.reads += 1
        return await super().by_hash(key_hash)


async def test_concurrent_requests_share_one_read(database: Database) -> None:
    store = CountingStore(database)
    service = ApiKeyService(store, cache_s=60)
    _, key = await service.create(name="k", role=Role.VIEWER, tenant_id="acme")

    async def check() -> None:
        principal = await service.authenticate(key)
        assert principal.tenant_id == "acme"

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            for _ in range(50):
                tg.start_soon(check)
        assert store.reads == 1
        for _ in range(10):
            await check()
    assert store.reads == 1


async def test_unknown_revoked_and_expired_keys_are_refused_alike(
    database: Database,
) -> None:
    """One message for the three: which one it is would tell a stranger that a key
    existed. The audit entry learns the tenant of a stored key."""
    store = CountingStore(database)
    service = ApiKeyService(store, cache_s=0)  # every check reads the store
    refusals: list[Unauthenticated] = []
    with pytest.raises(Unauthenticated) as unknown:
        await service.authenticate(generate_key())
    refusals.append(unknown.value)
    record, key = await service.create(name="k", role=Role.VIEWER, tenant_id="acme")
    await service.authenticate(key)
    await store.revoke(record.id, record.tenant_id)
    with pytest.raises(Unauthenticated) as revoked:
        await service.authenticate(key)
    refusals.append(revoked.value)
    soon = utcnow() + dt.timedelta(seconds=1)
    _, short = await service.create(
        name="s", role=Role.VIEWER, tenant_id="acme", expires_at=soon
    )
    await service.authenticate(short)
    with anyio.fail_after(10):
        while utcnow() <= soon:  # the expiry, on the clock the service reads
            await anyio.sleep(0.05)
    with pytest.raises(Unauthenticated) as expired:
        await service.authenticate(short)
    refusals.append(expired.value)
    assert {str(e) for e in refusals} == {INVALID_KEY}
    assert [e.tenant_id for e in refusals] == [None, "acme", "acme"]
