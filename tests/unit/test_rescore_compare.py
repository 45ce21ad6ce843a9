"""Re-scoring's comparison: given the same moments under two standards versions, then exactly
the changed verdicts and judgements, counted by stage and by standard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from touchstone.journey.rescore_report import Period, RescoreReport, compare
from touchstone.journey.v1.events_pb2 import (
    VERDICT_LOSE,
    VERDICT_UNSCORED,
    VERDICT_WIN,
    MomentScored,
    StandardResult,
)

AT = datetime(2026, 11, 16, 2, tzinfo=UTC)


def scored(moment_id: str, verdict: int, **met: bool) -> MomentScored:
    moment = MomentScored(
        moment_id=moment_id,
        journey_map="phone",
        stage="ring",
        site_id="hcm-01",
        verdict=verdict,
        results=[StandardResult(standard_id=s, met=m) for s, m in met.items()],
    )
    moment.occurred_at.FromDatetime(AT)
    return moment


def test_only_moments_judged_differently_are_changes() -> None:
    before = {
        "same": scored("same", VERDICT_WIN, rings=True),
        "tightened": scored("tightened", VERDICT_WIN, rings=True),
        "loosened": scored("loosened", VERDICT_LOSE, rings=False),
        "newly_judged": scored("newly_judged", VERDICT_UNSCORED),
        "deadline_gone": scored("deadline_gone", VERDICT_LOSE, callback=False),
    }
    after = {
        "same": scored("same", VERDICT_WIN, rings=True),
        "tightened": scored("tightened", VERDICT_LOSE, rings=False),
        "loosened": scored("loosened", VERDICT_WIN, rings=True),
        "newly_judged": scored("newly_judged", VERDICT_WIN, greeting=True),
    }
    changes = {c.moment_id: c for c in compare(before, after)}
    assert set(changes) == {"tightened", "loosened", "newly_judged", "deadline_gone"}
    assert changes["tightened"].transition == "win -> lose"
    assert [(s.standard_id, s.before, s.after) for s in changes["tightened"].standards] == [
        ("rings", "met", "broken")
    ]
    assert changes["newly_judged"].standards[0].before == "not judged"
    assert changes["deadline_gone"].transition == "lose -> absent"

    report = RescoreReport(
        Period(AT, AT + timedelta(days=1)), "old", "new", 5, tuple(changes.values())
    )
    assert report.by_stage() == {
        ("phone", "ring"): {
            "win -> lose": 1,
            "lose -> win": 1,
            "unscored -> win": 1,
            "lose -> absent": 1,
        }
    }
    assert report.by_standard() == {
        "rings": {"met -> broken": 1, "broken -> met": 1},
        "greeting": {"not judged -> met": 1},
        "callback": {"broken -> not judged": 1},
    }


def test_a_judgement_that_changes_without_changing_the_verdict_is_still_reported() -> None:
    before = {"m": scored("m", VERDICT_LOSE, rings=False, greeting=True)}
    after = {"m": scored("m", VERDICT_LOSE, rings=False, greeting=False)}
    (change,) = compare(before, after)
    assert change.transition == "lose -> lose" and change.standards[0].standard_id == "greeting"
    report = RescoreReport(Period(AT, AT + timedelta(hours=1)), "a", "b", 1, (change,))
    assert report.verdicts_changed == () and report.by_stage() == {}
