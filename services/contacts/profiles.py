"""Contacts' rules for registration: which id a registered customer gets, and what is refused."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from contacts.domain import resolve_identity_id

Identity = tuple[str, str]  # (kind, canonical value)


@dataclass(frozen=True)
class Owner:
    """Who an identity belongs to now."""

    customer_id: str
    registered: bool


class IdentityTaken(ValueError):
    """An identity already belongs to another registered customer."""


class WouldMerge(ValueError):
    """The identities belong to different provisional customers: registering would merge them."""


class NothingToIdentify(ValueError):
    """A registration needs a customer id or at least one identity."""


def registration_id(
    requested: str, identities: Sequence[Identity], owners: Mapping[Identity, Owner]
) -> str:
    """The registered customer's id: the requested one, else the one their identities resolve to.

    Touchpoints recorded before registration stay theirs: with no id requested, the customer
    adopts the provisional id their identities already resolve to.
    """
    if not requested and not identities:
        raise NothingToIdentify("a registration needs a customer_id or an identity")
    known = {identity: owners[identity] for identity in identities if identity in owners}
    provisional = sorted({o.customer_id for o in known.values() if not o.registered})
    customer_id = requested or (
        provisional[0] if provisional else resolve_identity_id(*identities[0])
    )
    check_identities(customer_id, known)
    return customer_id


def check_identities(customer_id: str, known: Mapping[Identity, Owner]) -> None:
    """Refuse identities that belong to someone else (merging lands with CustomersMerged)."""
    for (kind, _value), owner in known.items():
        if owner.customer_id == customer_id:
            continue
        if owner.registered:
            raise IdentityTaken(f"{kind} is already registered to customer {owner.customer_id}")
        raise WouldMerge(
            f"{kind} belongs to provisional customer {owner.customer_id}: linking it to "
            f"{customer_id} would merge two customers"
        )
