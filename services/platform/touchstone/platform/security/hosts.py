"""Where a host is: this machine only (loopback, a Unix socket), or somewhere on a network."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable


class PlaintextRefused(ValueError):
    """Traffic (Kafka, gRPC, Postgres) would leave this machine unencrypted, without the operator
    saying a network below encrypts it; the message names the settings that would do."""


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
    """The hosts of a comma-separated bootstrap list, read as the Kafka clients read it:
    `[v6]:port` and `host:port`; an address with more colons is a bare IPv6 host (so `::1:9092`
    is the host ::1:9092, not ::1 at port 9092)."""
    hosts = []
    for address in (a.strip() for a in bootstrap.split(",")):
        if address.startswith("["):
            hosts.append(address[1:].split("]", 1)[0])
        elif address.count(":") > 1:
            hosts.append(address)
        elif address:
            hosts.append(address.rsplit(":", 1)[0])
    return hosts


def all_loopback(hosts: Iterable[str]) -> bool:
    """Whether every host is this machine only."""
    return all(is_loopback(host) for host in hosts)
