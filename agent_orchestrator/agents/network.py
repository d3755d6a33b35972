"""Where outbound calls may go: webhooks reach public addresses only, unless the
operator allows a private host or network (``AGENT_WEBHOOK_ALLOWED_HOSTS``).

Without this, anyone who may run a workflow could make the server call its own
neighbours (databases' HTTP ports, cloud metadata at 169.254.169.254, admin consoles on
the loopback) and learn from the answers' status codes what lives there.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import anyio

from ..core.errors import AgentError, NonRetryableAgentError
from ..core.hosts import IPAddress, parse_allowed

if TYPE_CHECKING:
    from collections.abc import Sequence


def is_public(address: IPAddress) -> bool:
    """Whether an address is on the public internet (not loopback, private, link-local,
    shared, reserved or multicast); an IPv4-mapped IPv6 address counts as its IPv4."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to.

    Raises:
        AgentError: The name does not resolve now (retryable: DNS may come back).
    """
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return [literal]
    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise AgentError(f"cannot resolve the webhook host {host!r}: {exc}") from exc
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


async def check_public_target(url: str, allowed: Sequence[str]) -> None:
    """Refuse a webhook URL whose host is not public, unless it is allowed.

    Every address the name resolves to must be public or inside an allowed network (a
    name with one private address is refused: it could be made to use it). The check
    is made before the call; a name whose DNS answers change between the check and the
    call can still slip through, so keep internal names out of public DNS.

    Raises:
        NonRetryableAgentError: The host is private and not in the allow-list.
        AgentError: The host name does not resolve now.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    hosts, networks = parse_allowed(allowed)
    if host in hosts:
        return
    for address in await resolve(host, port):
        if is_public(address) or any(address in network for network in networks):
            continue
        raise NonRetryableAgentError(
            f"the webhook host {host!r} is a private address ({address}); webhooks go "
            "to public addresses only. To allow it, add the host or its network to "
            "AGENT_WEBHOOK_ALLOWED_HOSTS (comma-separated, e.g. "
            f"{host if host != str(address) else address},10.0.0.0/8)"
        )
