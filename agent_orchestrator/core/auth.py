"""Who is calling: API key records and the principal a request acts as."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .enums import Role


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """A stored API key; the key itself is never stored, only its SHA-256 and prefix."""

    id: str
    tenant_id: str
    name: str
    role: Role
    prefix: str
    created_at: dt.datetime
    expires_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None
    last_used_at: dt.datetime | None = None
    created_by: str | None = None

    def is_usable(self, now: dt.datetime) -> bool:
        """Neither revoked nor expired at `now`."""
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > now


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller a request acts for: a tenant, a role and the key that proved it.

    `expires_at` is the key's own expiry, so that a long-lived connection can check it
    before each operation without reading the key again.
    """

    tenant_id: str
    role: Role
    key_id: str | None = None
    key_name: str | None = None
    expires_at: dt.datetime | None = None

    def expired(self, now: dt.datetime) -> bool:
        """Whether the key this principal authenticated with has expired at `now`."""
        return self.expires_at is not None and self.expires_at <= now
