"""Contacts' rules for registration and merges: which id a customer gets, who is folded in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from touchstone.contacts.domain import resolve_identity_id
from touchstone.contacts.identity_keys import IdentityKeys

Identity = tuple[str, str]  # (kind, canonical value)


@dataclass(frozen=True)
class Owner:
    """Who an identity belongs to now: the customer at the root of its merges."""

    customer_id: str
    registered: bool


@dataclass(frozen=True)
class Linking:
    """The customer a command is for, and the provisional customers it merges into them."""

    customer_id: str
    absorbed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Party:
    """A customer about to be merged: the id asked for, where its merges lead, its status."""

    customer_id: str
    root: str
    status: str


@dataclass(frozen=True)
class Merge:
    """One customer folded into another, as contacts' ledger keeps it."""

    merge_id: str
    survivor_id: str
    absorbed_id: str
    reason: str = ""


class IdentityTaken(ValueError):
    """An identity already belongs to another registered customer (`owner`)."""

    def __init__(self, kind: str, owner: str) -> None:
        super().__init__(
            f"{kind} is already registered to customer {owner} "
            "(MergeCustomers folds two registered customers together)"
        )
        self.kind, self.owner = kind, owner


class NothingToIdentify(ValueError):
    """A registration needs a customer id or at least one identity."""


class CannotMerge(ValueError):
    """Those two customers cannot be merged (already one, or one is erased)."""


MAX_GROUP = 32  # ids one merged customer may hold: links are followed 32 deep (000_customer_links)

REGISTRATION_REASON = "RegisterCustomer named identities the absorbed customer was known by"
UPDATE_REASON = "UpdateCustomer added identities the absorbed customer was known by"


def registration(
    requested: str,
    identities: Sequence[Identity],
    owners: Mapping[Identity, Owner],
    keys: IdentityKeys,
) -> Linking:
    """The registered customer's id, and the provisional customers it absorbs.

    Touchpoints recorded before registration stay theirs: with no id requested, the customer
    adopts the provisional id their identities already resolve to (the first, if several: the
    others are merged into it).
    """
    if not requested and not identities:
        raise NothingToIdentify("a registration needs a customer_id or an identity")
    known = {identity: owners[identity] for identity in identities if identity in owners}
    provisional = sorted({o.customer_id for o in known.values() if not o.registered})
    customer_id = requested or (
        provisional[0] if provisional else resolve_identity_id(*identities[0], keys)
    )
    return Linking(customer_id, linking(customer_id, known))


def linking(customer_id: str, known: Mapping[Identity, Owner]) -> tuple[str, ...]:
    """The provisional customers whose identities now name customer_id: they are merged in.

    An identity of another registered customer is refused: folding two registered customers
    together is a decision for MergeCustomers, not a side effect.
    """
    absorbed: list[str] = []
    for (kind, _value), owner in sorted(known.items()):
        if owner.customer_id == customer_id:
            continue
        if owner.registered:
            raise IdentityTaken(kind, owner.customer_id)
        if owner.customer_id not in absorbed:
            absorbed.append(owner.customer_id)
    return tuple(absorbed)


def merge_roots(survivor: Party, absorbed: Party) -> tuple[str, str]:
    """(survivor, absorbed) as the merge links them: the survivor's root and the absorbed id.

    The absorbed customer must be a root itself, so that unmerging it undoes exactly this merge.
    """
    for party in (survivor, absorbed):
        if party.status == "erased":
            raise CannotMerge(f"customer {party.customer_id} is erased: there is nothing to merge")
    if survivor.root == absorbed.root:
        raise CannotMerge(
            f"{survivor.customer_id} and {absorbed.customer_id} are already one customer "
            f"({survivor.root})"
        )
    if absorbed.root != absorbed.customer_id:
        raise CannotMerge(
            f"{absorbed.customer_id} is merged into {absorbed.root}: merge {absorbed.root} "
            f"instead, or unmerge {absorbed.customer_id} first"
        )
    if survivor.status == "provisional" and absorbed.status == "registered":
        raise CannotMerge(
            f"provisional customer {survivor.root} cannot absorb registered customer "
            f"{absorbed.customer_id}: make {absorbed.customer_id} the survivor"
        )
    return survivor.root, absorbed.customer_id


def check_not_absorbed(customer_id: str, root: str) -> None:
    """Refuse to register a customer id that is merged into another."""
    if root != customer_id:
        raise CannotMerge(
            f"customer {customer_id} is merged into {root}: register {root}, or unmerge "
            f"{customer_id} first"
        )


def check_group_size(survivor_id: str, size: int) -> None:
    """Refuse a merge that would make one customer of more than MAX_GROUP ids."""
    if size > MAX_GROUP:
        raise CannotMerge(
            f"customer {survivor_id} would hold {size} customer ids; at most {MAX_GROUP} can be "
            "merged into one"
        )
