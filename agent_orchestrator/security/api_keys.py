"""Issuing and checking API keys (SECURITY.md "API keys")."""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

import anyio

from ..core.auth import ApiKeyRecord, Principal
from ..core.errors import Problem, Unauthenticated, ValidationFailed
from ..core.ids import DEFAULT_TENANT, as_utc, utcnow
from .keys import display_prefix, generate_key, hash_key, is_well_formed

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..core.enums import Role
    from ..core.records import AuditEntry

MAX_EXPIRY_DAYS = 366
#: `last_used_at` is written at most this often per key.
LAST_USED_EVERY = dt.timedelta(seconds=60)
DEFAULT_EXPIRY_DAYS = 90
TENANT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
#: The one answer to an unknown, a revoked and an expired key: which of the three it
#: is would tell a stranger that a key once existed.
INVALID_KEY = (
    "invalid API key: it is unknown, revoked or expired; ask an admin for a new one"
)
#: How many revoked key ids a process remembers (far more than are ever revoked
#: within the cache and recheck times that make the memory useful).
_REVOKED_REMEMBERED = 10_000


class ApiKeyRepository(Protocol):
    """Where keys are kept (the store implements it)."""

    async def create(
        self,
        *,
        tenant_id: str,
        name: str,
        role: Role,
        key_hash: str,
        prefix: str,
        expires_at: dt.datetime | None,
        created_by: str | None = None,
        audit: AuditEntry | None = None,
    ) -> ApiKeyRecord:
        """Store a key's hash and metadata, and `audit` in the same transaction."""
        ...

    async def by_hash(self, key_hash: str) -> ApiKeyRecord | None:
        """The key with this hash, if any."""
        ...

    async def touch(self, record: ApiKeyRecord) -> None:
        """Note that the key was used."""
        ...


class ApiKeyService:
    """Creates keys (returning the plaintext once) and turns a presented key into a
    `Principal`.

    Checked keys are remembered for `cache_s` seconds so that a busy client does not
    cost a database query per request. A key revoked through this process stops at
    once; one revoked elsewhere (another server, the CLI) stops within `cache_s`.
    Expiry is checked on every request. When a remembered key runs out, the requests
    that present it meanwhile wait for one read of the database, not one each.

    It also keeps the process's notice of revoked keys (`revoked`), which a long-lived
    connection checks before each operation (`ensure_current`) without a database
    query; `on_revoke` callbacks hear of each revocation at once.
    """

    def __init__(self, repository: ApiKeyRepository, cache_s: float = 5.0) -> None:
        self.repository = repository
        self.cache_s = cache_s
        self._cache: dict[str, tuple[float, ApiKeyRecord]] = {}
        self._reading: dict[str, anyio.Lock] = {}
        self._revoked: dict[str, None] = {}  # ordered: the oldest are forgotten first
        self.on_revoke: list[Callable[[str], None]] = []

    async def create(
        self,
        *,
        name: str,
        role: Role,
        tenant_id: str = DEFAULT_TENANT,
        expires_in_days: int | None = DEFAULT_EXPIRY_DAYS,
        expires_at: dt.datetime | None = None,
        created_by: str | None = None,
        audit: AuditEntry | None = None,
    ) -> tuple[ApiKeyRecord, str]:
        """Make a key.

        Returns:
            The stored record and the plaintext key, which is never shown again.

        Raises:
            ValidationFailed: Empty name, bad tenant id or an expiry outside 1 to 366
                days.
        """
        now = utcnow()
        expires_at = as_utc(expires_at)
        if expires_at is None and expires_in_days is not None:
            expires_at = now + dt.timedelta(days=expires_in_days)
        problems = []
        if not name.strip() or len(name) > 200:
            problems.append(
                Problem("name", "give the key a name of 1 to 200 characters")
            )
        if not re.match(TENANT_PATTERN, tenant_id):
            problems.append(
                Problem(
                    "tenantId",
                    "a tenant id is 1 to 64 letters, digits, '.', '_' or '-'",
                )
            )
        if expires_at is None or not (
            now < expires_at <= now + dt.timedelta(days=MAX_EXPIRY_DAYS)
        ):
            problems.append(
                Problem(
                    "expiresAt", f"a key must expire within 1 to {MAX_EXPIRY_DAYS} days"
                )
            )
        if problems:
            raise ValidationFailed(problems)
        key = generate_key()
        record = await self.repository.create(
            tenant_id=tenant_id,
            name=name.strip(),
            role=role,
            key_hash=hash_key(key),
            prefix=display_prefix(key),
            expires_at=expires_at,
            created_by=created_by,
            audit=audit,
        )
        return record, key

    async def authenticate(self, key: str | None) -> Principal:
        """The principal a presented key stands for.

        Raises:
            Unauthenticated: No key, a malformed one (refused without a database query),
                an unknown, revoked or expired one.
        """
        if not key:
            raise Unauthenticated(
                "missing API key; send it in the X-API-Key header (WebSocket: in the "
                "connection_init payload)"
            )
        key = key.strip()
        digest = hash_key(key)
        record = self._cached(digest)  # only well-formed keys are ever remembered
        if record is None:
            if not is_well_formed(key):
                raise Unauthenticated(
                    "malformed API key; check that it was copied whole"
                )
            record = await self._read(digest)
        now = utcnow()
        if not record.is_usable(now) or record.id in self._revoked:
            raise Unauthenticated(INVALID_KEY, tenant_id=record.tenant_id)
        if record.last_used_at is None or now - record.last_used_at > LAST_USED_EVERY:
            # Remembered first, so that the requests arriving meanwhile do not write
            # it again.
            self._remember(digest, replace(record, last_used_at=now))
            await self.repository.touch(record)
        return Principal(
            record.tenant_id, record.role, record.id, record.name, record.expires_at
        )

    def ensure_current(self, principal: Principal) -> None:
        """Refuse a principal whose key has expired since it authenticated, or was
        revoked as far as this process knows (no database query: a revocation made
        elsewhere arrives through `revoked` from the connection recheck).

        Raises:
            Unauthenticated: The key may no longer be used.
        """
        if principal.key_id is None:
            return
        if principal.key_id in self._revoked or principal.expired(utcnow()):
            raise Unauthenticated(INVALID_KEY, tenant_id=principal.tenant_id)

    def revoked(self, key_id: str) -> None:
        """Note that a key was revoked: this process refuses it from now on, and the
        `on_revoke` callbacks hear of it."""
        self.forget(key_id)
        if key_id in self._revoked:
            return
        if len(self._revoked) >= _REVOKED_REMEMBERED:
            del self._revoked[next(iter(self._revoked))]
        self._revoked[key_id] = None
        for callback in self.on_revoke:
            callback(key_id)

    async def _read(self, digest: str) -> ApiKeyRecord:
        """The stored key with this digest, read once however many ask at a time."""
        lock = self._reading.setdefault(digest, anyio.Lock())
        try:
            async with lock:
                record = self._cached(digest)  # read while this request waited
                if record is None:
                    record = await self.repository.by_hash(digest)
                    if record is None:
                        raise Unauthenticated(INVALID_KEY)
                    self._remember(digest, record)
                return record
        finally:
            if not lock.statistics().tasks_waiting:
                self._reading.pop(digest, None)

    def forget(self, key_id: str) -> None:
        """Drop a key from the cache (after revoking it)."""
        self._cache = {h: v for h, v in self._cache.items() if v[1].id != key_id}

    def _cached(self, digest: str) -> ApiKeyRecord | None:
        found = self._cache.get(digest)
        if found is None or time.monotonic() - found[0] > self.cache_s:
            return None
        return found[1]

    def _remember(self, digest: str, record: ApiKeyRecord) -> None:
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (time.monotonic(), record)
