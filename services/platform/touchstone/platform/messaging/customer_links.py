"""Customer links: every service follows contacts' merges when it answers for a customer.

Contacts publishes CustomersMerged and CustomersUnmerged on contacts.profiles.v1. A service that
keeps history by customer id folds them into its `customer_links` table (the shared migration
000_customer_links.sql) and never rewrites its history: its queries ask `customer_group(id)` for
every id that counts as the customer now. So a merge is one row, an unmerge flips it, and a
replay from offset 0 folds the same links in the same order to the same answers.

A link is live once merged until unmerged, whichever of the two events arrives first, so folding
needs no order across partitions (contacts keys both by the absorbed id anyway).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from touchstone.contacts.v1.profile_pb2 import CustomerEvent
from touchstone.platform.messaging.decoding import (
    UnusableRecord,
)

MAX_DEPTH = 32  # as in customer_root(): a longer chain is a cycle being folded


@dataclass(frozen=True)
class LinkChange:
    """One merge, or its undoing."""

    merge_id: str
    survivor_id: str
    absorbed_id: str
    unmerged: bool = False


def link_change_of(event: CustomerEvent) -> LinkChange | None:
    """The link a profile event makes or undoes; None for profile events that link nothing."""
    change = event.WhichOneof("change")
    if change not in ("merged", "unmerged"):
        return None
    link = event.merged if change == "merged" else event.unmerged
    if not (link.merge_id and link.survivor_id and link.absorbed_id):
        raise UnusableRecord(f"{change}: merge_id, survivor_id and absorbed_id are required")
    return LinkChange(link.merge_id, link.survivor_id, link.absorbed_id, change == "unmerged")


def collapsed(changes: Iterable[LinkChange]) -> list[LinkChange]:
    """One change per merge: unmerged if any of its changes says so."""
    by_merge: dict[str, LinkChange] = {}
    for change in changes:
        seen = by_merge.get(change.merge_id)
        by_merge[change.merge_id] = change if seen is None or change.unmerged else seen
    return list(by_merge.values())


def root_of(links: Iterable[LinkChange], customer_id: str) -> str:
    """The customer an id belongs to now (links: every change folded, in any order)."""
    survivor = {c.absorbed_id: c.survivor_id for c in collapsed(links) if not c.unmerged}
    for _ in range(MAX_DEPTH):
        if customer_id not in survivor:
            break
        customer_id = survivor[customer_id]
    return customer_id


def group_of(links: Iterable[LinkChange], customer_id: str) -> tuple[str, ...]:
    """Every id whose history counts as the customer's, the root first."""
    folded = collapsed(links)
    root = root_of(folded, customer_id)
    live = [c for c in folded if not c.unmerged]
    members, frontier = [root], [root]
    while frontier:
        frontier = [c.absorbed_id for c in live if c.survivor_id in frontier]
        frontier = [m for m in frontier if m not in members]
        members.extend(frontier)
    return (root, *sorted(members[1:]))


class CustomerLinks(Protocol):
    """The links port: fold merges in, ask who counts as a customer."""

    async def fold_links(self, changes: Sequence[LinkChange]) -> None:
        """Store merges and unmerges, idempotently, in one transaction."""

    async def customer_group(self, customer_id: str) -> tuple[str, ...]:
        """Every id whose history counts as the customer's now, the root first."""
