"""Where a host is: this machine only (loopback, a Unix socket), or somewhere on a network."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable


def is_loopback(host: str) -> bool:
    """Whether the host is this machine only (127.0.0.0/8, ::1, localhost)."""
    host = host.strip().strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def kafka_hosts(bootstrap: str) -> list[str]:
    """The hosts of a comma-separated host:port bootstrap list."""
    return [address.strip().rsplit(":", 1)[0] for address in bootstrap.split(",") if address]


def all_loopback(hosts: Iterable[str]) -> bool:
    """Whether every host is this machine only."""
    return all(is_loopback(host) for host in hosts)
