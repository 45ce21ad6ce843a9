"""SQL for what loyalty remembers of each customer group between folds (remembered.py), and
the rows it reads and writes."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from touchstone.loyalty.remembered import Kept, Remembered

# Where each group's lost moments leave its chance of staying (remembered.py): locked first
LOCK_CUSTOMERS = """
SELECT pg_advisory_xact_lock(hashtext('loyalty.customer:' || c)) FROM unnest(%b::text[]) AS c
"""
REMEMBERED_COLUMNS = (
    "root",
    "members",
    "model",
    "last_at",
    "last_id",
    "first_at",
    "stay",
    "same_visit",
)
SELECT_REMEMBERED = f"""
SELECT {", ".join(REMEMBERED_COLUMNS)} FROM loyalty.remembered WHERE root = ANY(%b)
"""
SAVE_REMEMBERED = f"""
INSERT INTO loyalty.remembered AS k ({", ".join(REMEMBERED_COLUMNS)})
SELECT * FROM unnest(
    %(root)b::text[], %(members)b::text[], %(model)b::text[], %(last_at)b::timestamptz[],
    %(last_id)b::text[], %(first_at)b::timestamptz[], %(stay)b::numeric[],
    %(same_visit)b::interval[]
)
ON CONFLICT (root) DO UPDATE SET
    {", ".join(f"{c} = excluded.{c}" for c in REMEMBERED_COLUMNS[1:])}
"""
DROP_REMEMBERED = "DELETE FROM loyalty.remembered WHERE root = ANY(%b)"


def kept_of(rows: Sequence[Sequence[Any]]) -> dict[str, Kept]:
    """What is remembered of each group, by root, as SELECT_REMEMBERED reads it."""
    kept = {}
    for root, members, model, last_at, last_id, first_at, stay, same_visit in rows:
        remembered = Remembered(model, last_at, last_id, first_at, Decimal(stay), same_visit)
        kept[root] = Kept(tuple(json.loads(members)), remembered)
    return kept


def remembered_columns(kept: Mapping[str, Kept]) -> dict[str, list[Any]]:
    """SAVE_REMEMBERED's column arrays."""
    roots = sorted(kept)
    rows = [(kept[root].members, kept[root].remembered) for root in roots]
    return {
        "root": roots,
        "members": [json.dumps(list(members)) for members, _ in rows],
        "model": [r.model for _, r in rows],
        "last_at": [r.last_at for _, r in rows],
        "last_id": [r.last_id for _, r in rows],
        "first_at": [r.first_at for _, r in rows],
        "stay": [r.stay for _, r in rows],
        "same_visit": [r.same_visit for _, r in rows],
    }
