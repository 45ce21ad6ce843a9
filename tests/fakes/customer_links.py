"""Customer links in memory: every change kept, folded when asked (the services' fakes share it)."""

from __future__ import annotations

from collections.abc import Sequence

from touchstone.platform.messaging.customer_links import LinkChange, group_of


class MemoryCustomerLinks:
    """CustomerLinks in memory: every change kept, folded when asked."""

    def __init__(self) -> None:
        self.links: list[LinkChange] = []

    async def fold_links(self, changes: Sequence[LinkChange]) -> None:
        self.links.extend(changes)

    async def customer_group(self, customer_id: str) -> tuple[str, ...]:
        return group_of(self.links, customer_id)

    def matches(self, row: object, wanted: dict[str, str]) -> bool:
        """Whether the row matches every wanted field; customer_id matches the whole group."""
        return all(
            getattr(row, k) in group_of(self.links, v)
            if k == "customer_id"
            else getattr(row, k) == v
            for k, v in wanted.items()
        )
