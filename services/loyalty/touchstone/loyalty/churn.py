"""Churn risk from service: how likely a customer is to leave, and how lost moments move it.

The model is data (services/loyalty/touchstone/loyalty/churn/default.yaml, or
TOUCHSTONE_CHURN_MODEL_FILE); its
comments trace every figure to docs/domain.md §7 or mark it an assumption. Each lost moment is an
independent chance that the customer leaves because of it: the share of such customers who
never return (90% unrecovered, 5% recovered), times the moment's severity, times its side
(indifference, the personal side, drives most departures). Silence after an unrecovered lose is
a chance of its own. Expected loyal years follow from the yearly risk; the value a lost moment
puts at risk is the lifetime value before it times the rise in risk it caused. Decimal
throughout: the same inputs give the same figures on every machine and in every replay.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from touchstone.platform.runtime.config_files import ConfigFileError, shipped, yaml_mapping

RISK_PLACES = Decimal("0.000001")
YEAR_PLACES = Decimal("0.0001")
DAYS_PER_YEAR = Decimal(365)
SIDES = ("personal", "procedural")


class ChurnModelError(ConfigFileError):
    """A churn model file that cannot be used: every problem, each naming its field."""


@dataclass(frozen=True)
class ChurnModel:
    """The parameters of the churn model (see the file for where each comes from)."""

    base_risk: Decimal
    horizon_years: Decimal
    memory: timedelta
    severe_weight: Decimal
    departs_unrecovered: Decimal
    departs_recovered: Decimal
    side_factor: Mapping[str, Decimal]
    silence_after_visits: Decimal
    silence_departs: Decimal
    silence_same_visit: timedelta  # contacts this soon after a lose are the same visit
    # leave chances by (side, weight, recovered), figured once: a long history has few kinds of
    # lost moment and is valued again at every fold (bookkeeping, not a parameter)
    chances: dict[tuple[str, Decimal, bool], Decimal] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )


@dataclass(frozen=True)
class LostMoment:
    """A moment the customer lost, as churn risk needs it."""

    moment_id: str
    occurred_at: datetime
    side: str  # the side of its heaviest broken standard: personal or procedural
    weight: Decimal  # the weight of the standards it broke
    recovered: bool = False  # notify reported its case recovered
    site_id: str = ""  # where it was lost
    recovered_at: datetime | None = None  # when notify reported it recovered, if it did


def default_model_file() -> Path:
    """The churn model that ships with Touchstone."""
    return shipped("touchstone.loyalty", "churn", "default.yaml")


def load_model(path: Path | None = None) -> ChurnModel:
    """The model in the file (the default one if None); ChurnModelError with every problem."""
    source = path or default_model_file()
    return parse_model(source.read_text(encoding="utf-8"), str(source))


def parse_model(text: str, origin: str) -> ChurnModel:
    """A model from YAML text; ChurnModelError naming each field at fault."""
    doc = yaml_mapping(
        text,
        origin,
        lambda problems: ChurnModelError(origin, problems),
        "a mapping of the model's parameters",
    )
    reader = _Reader(doc)
    model = ChurnModel(
        base_risk=reader.share("base_risk", above_zero=True),
        horizon_years=reader.positive("horizon_years"),
        memory=timedelta(days=float(reader.positive("memory_days"))),
        severe_weight=reader.positive("severe_weight"),
        departs_unrecovered=reader.share("departs.unrecovered"),
        departs_recovered=reader.share("departs.recovered"),
        side_factor={side: reader.share(f"side.{side}") for side in SIDES},
        silence_after_visits=reader.positive("silence.after_visits"),
        silence_departs=reader.share("silence.departs"),
        silence_same_visit=timedelta(hours=float(reader.positive("silence.same_visit_hours"))),
    )
    if reader.problems:
        raise ChurnModelError(origin, reader.problems, doc)
    return model


class _Reader:
    """Reads dotted fields as Decimals, collecting every problem."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.problems: list[str] = []

    def number(self, field: str) -> Decimal | None:
        value: Any = self.doc
        for part in field.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problems.append(f"{field}: a number is required, not {value!r}")
            return None
        try:
            return Decimal(str(value))
        except InvalidOperation:  # pragma: no cover - int and float always convert
            self.problems.append(f"{field}: {value!r} is not a number")
            return None

    def share(self, field: str, above_zero: bool = False) -> Decimal:
        value = self.number(field)
        if value is None:
            return Decimal(0)
        if not (Decimal(0) < value if above_zero else Decimal(0) <= value) or value > 1:
            low = "above 0" if above_zero else "from 0"
            self.problems.append(f"{field}: a share {low} up to 1 is required, not {value}")
        return value

    def positive(self, field: str) -> Decimal:
        value = self.number(field)
        if value is None:
            return Decimal(1)
        if value <= 0:
            self.problems.append(f"{field}: must be above 0, not {value}")
        return value


def leave_chance(model: ChurnModel, moment: LostMoment, recovered: bool | None = None) -> Decimal:
    """The chance the customer leaves because of this lost moment alone (had it been recovered
    or not, when `recovered` says; as it stands otherwise)."""
    kind = (moment.side, moment.weight, moment.recovered if recovered is None else recovered)
    chance = model.chances.get(kind)
    if chance is None:
        side, weight, was_recovered = kind
        departs = model.departs_recovered if was_recovered else model.departs_unrecovered
        impact = min(Decimal(1), weight / model.severe_weight)
        chance = model.chances[kind] = departs * impact * model.side_factor.get(side, Decimal(1))
    return chance


def churn_risk(
    model: ChurnModel, lost: Sequence[LostMoment], as_of: datetime, silent: bool = False
) -> Decimal:
    """The yearly risk that the customer leaves, given the moments they lost in the model's
    memory before as_of (and whether they have gone silent since one)."""
    remembered = [
        leave_chance(model, moment)
        for moment in sorted(lost, key=lambda m: (m.occurred_at, m.moment_id))  # order-free
        if as_of - model.memory < moment.occurred_at <= as_of
    ]
    return risk_of_chances(model, remembered, silent)


def risk_of_chances(model: ChurnModel, chances: Iterable[Decimal], silent: bool = False) -> Decimal:
    """The yearly risk that the customer leaves, given the leave chances of the lost moments
    remembered, in event time (each a chance of its own, on top of the base risk)."""
    return risk_of_stay(model, stay_after(model, chances), silent)


def stay_after(model: ChurnModel, chances: Iterable[Decimal]) -> Decimal:
    """The chance the customer stays a year, given the leave chances in event time (unrounded:
    a later moment's chance multiplies it further, exactly as if counted from the start)."""
    stay = Decimal(1) - model.base_risk
    for chance in chances:
        stay *= Decimal(1) - chance
    return stay


def risk_of_stay(model: ChurnModel, stay: Decimal, silent: bool = False) -> Decimal:
    """The yearly risk of leaving from the chance of staying (silence departs on top)."""
    if silent:
        stay *= Decimal(1) - model.silence_departs
    return (Decimal(1) - stay).quantize(RISK_PLACES, ROUND_HALF_EVEN)


def quiet_time(model: ChurnModel, visits_per_year: Decimal) -> timedelta | None:
    """How long without any contact after an unrecovered lose is silence: the model's number of
    the customer's usual intervals between visits; None if they have no usual interval."""
    if visits_per_year <= 0:
        return None
    return timedelta(days=float(DAYS_PER_YEAR / visits_per_year * model.silence_after_visits))


def silences(
    model: ChurnModel,
    lost: Sequence[LostMoment],
    last_contact_at: datetime,
    visits_per_year: Decimal,
) -> list[tuple[str, datetime]]:
    """Each unrecovered lose the customer has not been back since (a contact within the model's
    same-visit time after it is the rest of that visit), with the time silence after it begins
    (moment id, when), earliest first."""
    quiet = quiet_time(model, visits_per_year)
    if quiet is None:
        return []
    due = [
        (m.moment_id, m.occurred_at + quiet)
        for m in lost
        if not m.recovered and last_contact_at <= m.occurred_at + model.silence_same_visit
    ]
    return sorted(due, key=lambda d: (d[1], d[0]))


def is_silent(due: Sequence[tuple[str, datetime]], now: datetime) -> bool:
    """Whether, by now, silence has begun after one of the customer's unrecovered loses (due:
    what silences() found)."""
    return any(at <= now for _, at in due)


def expected_years(model: ChurnModel, risk: Decimal) -> Decimal:
    """The mean number of years a customer stays who leaves with this risk each year, capped."""
    if risk <= 0:
        return model.horizon_years
    return min(model.horizon_years, Decimal(1) / risk).quantize(YEAR_PLACES, ROUND_HALF_EVEN)


def value_at_risk(lifetime_value_minor: int, risk_before: Decimal, risk_after: Decimal) -> int:
    """The value a lost moment puts at stake: lifetime value x the rise in risk it caused, in
    minor units (half to even)."""
    rise = max(Decimal(0), risk_after - risk_before)
    return int((Decimal(lifetime_value_minor) * rise).quantize(Decimal(1), ROUND_HALF_EVEN))
