"""The open WebSockets of each API key: how many one key may hold, and closing them all
when the key dies (revoked or expired).

A socket authenticates once, at `connection_init`, and may then live for hours: every
operation it sends is checked against the key's current state (`ApiKeyService.
ensure_current`), and this registry closes the sockets of a key that died, at once for
a revocation made in this process and within ``AGENT_KEY_RECHECK_S`` for one made
elsewhere (`service.api_keys.ApiKeys.watch_sockets`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import anyio

from ..core.errors import RateLimited

if TYPE_CHECKING:
    from ..core.auth import Principal

log = logging.getLogger("agent_orchestrator.security")
#: The WebSocket close code for a key that may no longer be used (graphql-ws uses
#: 4403 for "Forbidden").
KEY_DIED = 4403
#: The close code for a socket over its key's limit (graphql-ws: "Too many requests").
TOO_MANY = 4429

Close = Callable[[int, str], Awaitable[None]]


@dataclass(eq=False)
class OpenSocket:
    """One authenticated socket, as the registry knows it.

    Attributes:
        key_id: The key it authenticated with.
        expires_at: That key's expiry.
        close: Closes the socket with a code and a reason.
    """

    key_id: str
    expires_at: dt.datetime | None
    close: Close
    closing: bool = field(default=False)


class KeySockets:
    """The process's open sockets by API key.

    Args:
        max_per_key: ``AGENT_WS_MAX_SOCKETS_PER_KEY``: sockets one key may hold open
            in this process.
    """

    def __init__(self, max_per_key: int) -> None:
        self.max_per_key = max_per_key
        self._by_key: dict[str, set[OpenSocket]] = {}
        self._dead: set[str] = set()
        self._wake = anyio.Event()

    def open(self, principal: Principal, close: Close) -> OpenSocket | None:
        """Register a socket that authenticated as `principal` (None for a caller
        without a key, which nothing limits or closes).

        Raises:
            RateLimited: The key already holds `max_per_key` sockets here.
        """
        if principal.key_id is None:
            return None
        sockets = self._by_key.setdefault(principal.key_id, set())
        if len(sockets) >= self.max_per_key:
            raise RateLimited(
                f"this API key already has {self.max_per_key} open WebSockets "
                "(AGENT_WS_MAX_SOCKETS_PER_KEY); close one, or run several operations "
                "on one socket",
                retry_after_s=1.0,
            )
        socket = OpenSocket(principal.key_id, principal.expires_at, close)
        sockets.add(socket)
        if socket.expires_at is not None:
            self._wake.set()  # the watcher's next wake-up may be this key's expiry
        return socket

    def release(self, socket: OpenSocket | None) -> None:
        """Forget a socket that closed."""
        if socket is None:
            return
        sockets = self._by_key.get(socket.key_id)
        if sockets is not None:
            sockets.discard(socket)
            if not sockets:
                del self._by_key[socket.key_id]

    def count(self, key_id: str) -> int:
        """How many sockets of `key_id` are open here."""
        return len(self._by_key.get(key_id, ()))

    def key_ids(self) -> list[str]:
        """The keys with open sockets here."""
        return list(self._by_key)

    def key_died(self, key_id: str) -> None:
        """A key may no longer be used: its sockets are closed by `close_dead` (woken
        at once). Safe to call from synchronous code."""
        if key_id in self._by_key:
            self._dead.add(key_id)
            self._wake.set()

    async def wait(self, timeout_s: float) -> None:
        """Until a key died, a socket opened, or `timeout_s` passed."""
        with anyio.move_on_after(timeout_s):
            await self._wake.wait()
        self._wake = anyio.Event()

    def next_expiry(self) -> dt.datetime | None:
        """When the first key with sockets here expires (None: none of them do)."""
        return min(
            (
                s.expires_at
                for sockets in self._by_key.values()
                for s in sockets
                if s.expires_at is not None and not s.closing
            ),
            default=None,
        )

    def expired(self, now: dt.datetime) -> list[str]:
        """The keys with sockets here that have expired at `now`."""
        return [
            key_id
            for key_id, sockets in self._by_key.items()
            if any(
                s.expires_at is not None and s.expires_at <= now and not s.closing
                for s in sockets
            )
        ]

    async def close_dead(self, reason: str) -> int:
        """Close every socket of the keys that died, with `KEY_DIED`.

        Returns:
            How many sockets were closed.
        """
        closed = 0
        dead, self._dead = self._dead, set()
        for key_id in dead:
            for socket in list(self._by_key.get(key_id, ())):
                if socket.closing:
                    continue
                socket.closing = True
                closed += 1
                # A socket whose peer stopped reading must not hold up the others.
                with anyio.move_on_after(5):
                    try:
                        await socket.close(KEY_DIED, reason)
                    except Exception:  # already closed by the peer
                        log.debug("closing a socket of a dead key", exc_info=True)
        return closed
