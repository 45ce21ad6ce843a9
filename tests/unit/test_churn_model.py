"""Churn risk from service, worked by hand from the model file
(services/loyalty/touchstone/loyalty/churn/
default.yaml): given a customer's lost moments, then their risk, expected loyal years, lifetime
value and the value each lost moment puts at risk."""

from __future__ import annotations

import random
import re
from datetime import timedelta
from decimal import Decimal

import pytest

from tests.builders import T0
from touchstone.loyalty.churn import (
    ChurnModelError,
    LostMoment,
    churn_risk,
    default_model_file,
    expected_years,
    is_silent,
    leave_chance,
    load_model,
    parse_model,
    silences,
    stay_after,
    value_at_risk,
)
from touchstone.loyalty.domain import DEFAULT_POLICY, Purchase, ValuePolicy, lifetime_value
from touchstone.loyalty.so_far import StaysSoFar

MODEL = load_model()
ONE_WEIGHT = Decimal(1)  # the weight of most default standards (a third of severe_weight 3)


def lost(n: int, side: str = "personal", weight: Decimal = ONE_WEIGHT, **fields) -> LostMoment:
    days = fields.pop("days", 0)
    return LostMoment(f"m{n}", T0 + timedelta(days=days), side, weight, **fields)


def test_every_figure_in_the_model_file_traces_to_the_domain_or_is_marked_an_assumption() -> None:
    for line in default_model_file().read_text(encoding="utf-8").splitlines():
        if re.match(r"^\s*\w+:\s*[0-9.]+", line) and not line.startswith("version"):
            assert "docs/domain.md §7" in line or "assumption" in line, line


def test_the_worked_example_500000_vnd_40_visits_a_year_5_years_is_100_million() -> None:
    years = expected_years(MODEL, MODEL.base_risk)  # no lost moment: 1 / 0.2
    assert years == Decimal(5) == DEFAULT_POLICY.expected_years
    # a visit every 365 / 40 = 9.125 days, 500,000 VND each, for a year: 40 visits a year
    spacing = timedelta(days=365) / 40
    purchases = [
        Purchase(f"p{n}", "lan", f"v{n}", T0 + spacing * n, "VND", 500_000) for n in range(40)
    ]
    value = lifetime_value(purchases, ValuePolicy(expected_years=years))
    assert value is not None
    assert value.average_spend_minor == 500_000 and value.visits_per_year == Decimal(40)
    assert value.lifetime_value_minor == 100_000_000


def test_one_unrecovered_personal_lose_moves_risk_and_value_at_risk_as_the_model_predicts() -> None:
    # leave = departs.unrecovered 0.9 x impact (1 / severe_weight 3) x side.personal 1.0 = 0.3
    assert leave_chance(MODEL, lost(1)) == Decimal("0.3")
    before = churn_risk(MODEL, [], T0)
    after = churn_risk(MODEL, [lost(1)], T0)
    assert (before, after) == (Decimal("0.2"), Decimal("0.44"))  # 1 - 0.8 x (1 - 0.3)
    assert value_at_risk(100_000_000, before, after) == 24_000_000  # 100M x (0.44 - 0.2)
    assert expected_years(MODEL, after) == Decimal("2.2727")  # 1 / 0.44


def test_a_lose_recovered_weighs_little_and_a_procedural_one_half_as_much() -> None:
    recovered = churn_risk(MODEL, [lost(1, recovered=True)], T0)
    assert recovered == Decimal("0.213333")  # 1 - 0.8 x (1 - 0.05 / 3): 95% stay
    assert value_at_risk(100_000_000, Decimal("0.2"), recovered) == 1_333_300
    assert churn_risk(MODEL, [lost(1, "procedural")], T0) == Decimal("0.32")  # 0.15 to leave
    severe = churn_risk(MODEL, [lost(1, weight=Decimal(3))], T0)
    assert severe == Decimal("0.92")  # a severe breach: 90% leave


def test_lost_moments_compound_in_any_order_and_are_forgotten_after_a_year() -> None:
    moments = [lost(1), lost(2, "procedural", days=10), lost(3, recovered=True, days=20)]
    as_of = T0 + timedelta(days=30)
    risk = churn_risk(MODEL, moments, as_of)
    assert risk == Decimal("0.531933")  # 1 - 0.8 x 0.7 x 0.85 x (1 - 0.05 / 3)
    for _ in range(5):
        assert churn_risk(MODEL, random.sample(moments, len(moments)), as_of) == risk
    a_year_later = T0 + timedelta(days=366)
    assert churn_risk(MODEL, moments[:1], a_year_later) == MODEL.base_risk


def test_silence_after_an_unrecovered_lose_is_a_signal_of_its_own() -> None:
    moment = lost(1)
    per_year = Decimal(40)  # one visit every 9.125 days: silent after 18.25 days

    def silent(moments, last_contact, days) -> bool:
        due = silences(MODEL, moments, last_contact, per_year)
        return is_silent(due, T0 + timedelta(days=days))

    assert silences(MODEL, [moment], T0, per_year) == [("m1", T0 + timedelta(days=18.25))]
    assert silent([moment], T0, 19) and not silent([moment], T0, 10)
    assert not silent([moment], T0 + timedelta(days=3), 19)  # they came back
    at_the_till = T0 + timedelta(hours=1)  # the rest of the same visit is not coming back
    assert silent([moment], at_the_till, 19)
    assert not silent([lost(1, recovered=True)], T0, 19)
    silent_risk = churn_risk(MODEL, [moment], T0 + timedelta(days=19), silent=True)
    assert silent_risk == Decimal("0.72")  # 1 - 0.8 x 0.7 x (1 - silence.departs 0.5)


def test_a_model_file_with_bad_figures_names_every_field_at_fault() -> None:
    text = default_model_file().read_text(encoding="utf-8")
    bad = text.replace("base_risk: 0.2", "base_risk: 0").replace("recovered: 0.05", "recovered: 5")
    bad = bad.replace("procedural: 0.5", "procedural: high").replace("memory_days: 365", "")
    with pytest.raises(ChurnModelError) as error:
        parse_model(bad, "bad.yaml")
    assert [p.split(":")[0] for p in error.value.problems] == [
        "base_risk",
        "memory_days",
        "departs.recovered",
        "side.procedural",
    ]
    lines = {
        p.split(":")[0]: line
        for p, line in zip(error.value.problems, error.value.lines, strict=True)
    }
    assert text.splitlines()[lines["base_risk"] - 1].lstrip().startswith("base_risk:")
    assert text.splitlines()[lines["side.procedural"] - 1].lstrip().startswith("procedural:")
    assert str(error.value).splitlines()[0].startswith(f"bad.yaml:{lines['base_risk']}: base_risk")
    with pytest.raises(ChurnModelError, match="not YAML"):
        parse_model("base_risk: [", "broken.yaml")


def test_a_leave_chance_figured_once_is_the_one_a_fresh_model_figures_every_time() -> None:
    fresh = parse_model(default_model_file().read_text(encoding="utf-8"), "fresh")
    rng = random.Random(5)
    for n in range(300):
        moment = lost(
            n,
            rng.choice(("personal", "procedural", "elsewhere")),
            Decimal(rng.choice(("0.5", "1", "1.0", "2", "3", "4.5"))),
            recovered=rng.random() < 0.3,
        )
        again = parse_model(default_model_file().read_text(encoding="utf-8"), "again")
        assert leave_chance(fresh, moment) == leave_chance(again, moment)
        for recovered in (True, False):
            as_if = LostMoment(
                moment.moment_id, moment.occurred_at, moment.side, moment.weight, recovered
            )
            assert leave_chance(fresh, moment, recovered) == leave_chance(again, as_if)


def test_stays_multiplied_on_from_the_last_run_are_stay_after_to_the_last_digit() -> None:
    """so_far.StaysSoFar against churn.stay_after: runs in the order valuation asks (the
    first moment still remembered moves on, the end grows), and runs asked out of order."""
    rng = random.Random(11)
    chances = [
        leave_chance(
            MODEL, lost(n, weight=Decimal(rng.choice((1, 2, 3))), recovered=rng.random() < 0.2)
        )
        for n in range(400)
    ]
    stays = StaysSoFar(MODEL, chances)
    first = 0
    for end in range(0, 400, 7):
        first = min(end, first + rng.choice((0, 0, 0, 1, 5)))
        assert stays.over(first, end) == stay_after(MODEL, chances[first:end])
    for _ in range(100):
        first, end = sorted(rng.sample(range(401), 2))
        assert stays.over(first, end) == stay_after(MODEL, chances[first:end])
