"""Contacts' merge rules: given who holds which identity → who is registered, who is merged in."""

from __future__ import annotations

import pytest

from touchstone.contacts.domain import resolve_identity_id
from touchstone.contacts.identity_keys import DEVELOPMENT_KEYS as KEYS
from touchstone.contacts.profiles import (
    MAX_GROUP,
    CannotMerge,
    IdentityTaken,
    Linking,
    NothingToIdentify,
    Owner,
    Party,
    check_group_size,
    check_not_absorbed,
    linking,
    merge_roots,
    registration,
)

CARD = ("loyalty_card", "LC-1")
EMAIL = ("email", "lan@example.com")
PHONE = ("phone", "+84901234567")


def test_registering_an_identity_nobody_holds_gets_that_identitys_id() -> None:
    assert registration("", [CARD], {}, KEYS) == Linking(resolve_identity_id(*CARD, KEYS))


def test_registering_adopts_the_provisional_customer_an_identity_already_names() -> None:
    owners = {CARD: Owner("p-card", registered=False)}
    assert registration("", [PHONE, CARD], owners, KEYS) == Linking("p-card")


def test_identities_of_two_provisional_customers_merge_the_second_into_the_first() -> None:
    owners = {CARD: Owner("p-2", registered=False), EMAIL: Owner("p-1", registered=False)}
    assert registration("", [CARD, EMAIL], owners, KEYS) == Linking("p-1", absorbed=("p-2",))


def test_a_requested_id_absorbs_every_provisional_customer_its_identities_name() -> None:
    owners = {CARD: Owner("p-2", registered=False), EMAIL: Owner("p-1", registered=False)}
    assert registration("lan", [CARD, EMAIL], owners, KEYS) == Linking("lan", ("p-1", "p-2"))


def test_an_identity_of_another_registered_customer_is_taken_not_merged() -> None:
    owners = {CARD: Owner("someone", registered=True)}
    with pytest.raises(IdentityTaken, match="MergeCustomers"):
        registration("lan", [CARD], owners, KEYS)


def test_identities_already_the_customers_own_merge_nobody() -> None:
    owners = {CARD: Owner("lan", registered=True), EMAIL: Owner("lan", registered=True)}
    assert linking("lan", owners) == ()


def test_a_registration_names_someone() -> None:
    with pytest.raises(NothingToIdentify):
        registration("", [], {}, KEYS)


def test_a_merge_links_the_absorbed_customer_to_the_survivors_root() -> None:
    survivor = Party("a2", root="a", status="registered")  # a2 is already merged into a
    absorbed = Party("b", root="b", status="provisional")
    assert merge_roots(survivor, absorbed) == ("a", "b")


def test_a_customer_merged_elsewhere_is_merged_by_its_root_so_an_unmerge_mirrors_it() -> None:
    with pytest.raises(CannotMerge, match="merge b instead"):
        merge_roots(Party("a", "a", "registered"), Party("c", "b", "provisional"))


def test_a_provisional_customer_cannot_absorb_a_registered_one() -> None:
    with pytest.raises(CannotMerge, match="make r the survivor"):
        merge_roots(Party("p", "p", "provisional"), Party("r", "r", "registered"))


def test_a_customer_merged_into_another_cannot_be_registered_on_their_own() -> None:
    check_not_absorbed("a", "a")
    with pytest.raises(CannotMerge, match="register b, or unmerge a first"):
        check_not_absorbed("a", "b")


def test_one_customer_holds_at_most_max_group_ids() -> None:
    check_group_size("a", MAX_GROUP)
    with pytest.raises(CannotMerge, match=f"at most {MAX_GROUP}"):
        check_group_size("a", MAX_GROUP + 1)


def test_two_ids_of_one_customer_cannot_be_merged_again() -> None:
    with pytest.raises(CannotMerge, match="already one customer"):
        merge_roots(Party("a", "a", "registered"), Party("b", "a", "provisional"))


def test_an_erased_customer_cannot_be_merged() -> None:
    with pytest.raises(CannotMerge, match="erased"):
        merge_roots(Party("a", "a", "registered"), Party("b", "b", "erased"))
