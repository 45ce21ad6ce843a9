"""Tiers: customers ranked by lifetime value within their home site, cut by share of the site.

The cuts are data (services/loyalty/touchstone/loyalty/tiers.yaml): the top 20% (docs/domain.md §7:
80% of
business comes from 20% of customers), then further cumulative shares. A customer's tier
follows from their rank among the site's customers, so a site's top n, or one tier of it, is a
range of ranks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

from touchstone.platform.runtime.config_files import (
    ConfigError,
    Lined,
    LinedList,
    load_lined,
    shipped,
)


class TiersError(ConfigError):
    """A tiers file that cannot be used."""


@dataclass(frozen=True)
class Tier:
    """A tier: its name and the cumulative share of a site's customers it reaches down to."""

    name: str
    share: Decimal  # exact: a float 0.3 x 10 is 3.0000000000000004, one customer too many


@dataclass(frozen=True)
class TierChanged:
    """A customer's tier at their home site changed."""

    customer_id: str
    site_id: str
    tier: str
    previous_tier: str  # "" if they were not ranked before
    rank: int
    site_customers: int
    currency: str
    lifetime_value_minor: int


def default_tiers_file() -> Path:
    return shipped("touchstone.loyalty", "tiers.yaml")


def load_tiers(path: Path | None = None) -> tuple[Tier, ...]:
    """The tiers in the file (the default one if None), best first; TiersError if unusable."""
    source = path or default_tiers_file()
    doc, problems = load_lined(source.read_text(encoding="utf-8"), str(source))
    if problems:
        raise TiersError(str(problems[0]))
    raw = doc.get("tiers") if isinstance(doc, Lined) else None
    if not isinstance(raw, LinedList) or not raw:
        line = doc.line_of("tiers") if isinstance(doc, Lined) else 1
        raise TiersError(f"{source}:{line}: tiers: expected a non-empty list of name and share")
    tiers = []
    for n, entry in enumerate(raw):
        name = entry.get("name") if isinstance(entry, dict) else None
        share = entry.get("share") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name or not isinstance(share, int | float):
            raise TiersError(
                f"{source}:{raw.line_of(n)}: tiers[{n}]: needs a name and a share (0 to 1)"
            )
        tiers.append(Tier(name, Decimal(str(share))))
    shares = [t.share for t in tiers]
    if any(b <= a for a, b in pairwise(shares)) or shares[-1] != 1 or shares[0] <= 0:
        raise TiersError(
            f"{source}:{raw.line}: tiers: shares must rise to 1.0, best tier first; got "
            f"{', '.join(str(s) for s in shares)}"
        )
    if len({t.name for t in tiers}) != len(tiers):
        raise TiersError(f"{source}:{raw.line}: tiers: names repeat")
    return tuple(tiers)


def rank_range(tiers: tuple[Tier, ...], name: str, customers: int) -> tuple[int, int]:
    """The ranks (1-based, inclusive) of the tier among a site's customers; KeyError if unknown.
    An empty range (first > last) when the site is too small to have it."""
    last_of_previous = 0
    for tier in tiers:
        last = math.ceil(tier.share * customers)
        if tier.name == name:
            return last_of_previous + 1, last
        last_of_previous = last
    raise KeyError(name)


def tier_of(tiers: tuple[Tier, ...], rank: int, customers: int) -> str:
    """The tier of the customer at this rank among the site's customers."""
    for tier in tiers:
        if rank <= math.ceil(tier.share * customers):
            return tier.name
    return tiers[-1].name


def retiered(
    tiers: tuple[Tier, ...],
    site_id: str,
    ranked: Sequence[tuple[str, str, int]],
    was: Mapping[str, str],
) -> list[TierChanged]:
    """Every tier that moves at a site: ranked, its customers best first as (customer, currency,
    lifetime value); was, the tier each is kept with now. (The Postgres store says this rule in
    SQL, store_sql.retier_statement, so as not to load every customer of a site for each batch;
    the store contract tests hold the two to the same answers.)"""
    changes = []
    for rank, (customer, currency, value) in enumerate(ranked, start=1):
        tier = tier_of(tiers, rank, len(ranked))
        if was.get(customer) != tier:
            previous = was.get(customer, "")
            changes.append(
                TierChanged(customer, site_id, tier, previous, rank, len(ranked), currency, value)
            )
    return changes
