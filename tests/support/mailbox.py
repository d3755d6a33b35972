"""A real SMTP server on a loopback port (aiosmtpd) that keeps what it receives."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiosmtpd.controller import Controller

from tests.support.server import free_port

if TYPE_CHECKING:
    from collections.abc import Iterator


@dataclass
class Mailbox:
    """An aiosmtpd handler that keeps what arrives and refuses chosen recipients.

    Attributes:
        port: The loopback port the server listens on.
        received: ``(envelope sender, envelope recipients, raw message)`` per message.
        refuse: Recipient address → the SMTP reply that refuses it.
    """

    port: int = 0
    received: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        self.received.append(
            (envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
        )
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server(**controller_options: Any) -> Iterator[Mailbox]:
    """Run an SMTP server on a free loopback port while the block runs."""
    box = Mailbox(port=free_port())
    controller = Controller(
        box, hostname="127.0.0.1", port=box.port, **controller_options
    )
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
