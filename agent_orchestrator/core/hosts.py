"""Allow-lists of hosts and networks, as the settings and the agents read them."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_allowed(
    entries: Iterable[str],
) -> tuple[frozenset[str], tuple[IPNetwork, ...]]:
    """Split allow-list entries into host names and networks.

    Raises:
        ValueError: An entry is neither a host name nor an address or CIDR network.
    """
    hosts: set[str] = set()
    networks: list[IPNetwork] = []
    for raw in entries:
        entry = raw.strip().lower().rstrip(".")
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
            continue
        except ValueError:
            pass
        labels = entry.split(".")
        if not all(
            label and len(label) <= 63 and label.replace("-", "").isalnum()
            for label in labels
        ):
            raise ValueError(
                f"{raw!r} is neither a host name (hooks.example.fi), an address "
                "(127.0.0.1) nor a network (10.0.0.0/8)"
            )
        hosts.add(entry)
    return frozenset(hosts), tuple(networks)
