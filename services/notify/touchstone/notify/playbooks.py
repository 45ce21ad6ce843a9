"""Playbooks: the steps that recover a lost moment, chosen by rules, laid out in time (§9).

The playbooks are data (services/notify/touchstone/notify/playbooks/default.yaml, or
TOUCHSTONE_PLAYBOOKS_FILE):
rules tried in order pick a playbook for a case from its opening lost moment (map, stage, broken
standard, side, weight); each step has an action, an owner, a channel and a due time, minutes
after the moment or the end of the next working day by the site's business calendar.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from touchstone.platform.runtime.config_files import ConfigFileError, shipped, yaml_mapping
from touchstone.shared_kernel.calendar import BusinessCalendar

ACTIONS = ("apologise", "fix", "ask_opinion", "follow_up", "correct_cause", "step_in")
OWNERS = ("system", "staff", "duty_manager")
PEOPLE = ("staff", "duty_manager")  # the owners whose steps wait on people
CHANNELS = ("in_person", "phone", "email", "webhook", "task")
SIDES = ("personal", "procedural")
CONDITIONS = ("map", "stage", "standard", "side", "min_weight", "tier")


log = logging.getLogger(__name__)


class PlaybookError(ConfigFileError):
    """A playbooks file that cannot be used: every problem, each naming where it is."""


@dataclass(frozen=True)
class Step:
    """One step of a playbook."""

    action: str
    owner: str
    channel: str
    after: timedelta | None  # due this long after the lost moment, or
    end_of_next_working_day: bool = False  # ... by the end of the site's next working day


@dataclass(frozen=True)
class Rule:
    """Conditions on a lost moment, and the playbook they pick."""

    playbook: str
    when: Mapping[str, Any]


@dataclass(frozen=True)
class RecoveryPolicy:
    """How fast recovery must go (the playbooks file's `recovery`). docs/domain.md §7, §9: respond
    immediately, anger grows with delay; a promise of a time is kept."""

    respond_within: timedelta = timedelta(minutes=15)  # a case is due this long after its moment
    # the apology and the fix are due within this of the loss, whatever the channel and the
    # calendar (docs/domain.md §7: "do not wait 24 hours"; a Friday loss is not left to Monday)
    first_contact_within: timedelta = timedelta(hours=24)
    escalate_after: timedelta = timedelta(minutes=10)  # a staff step this late goes up
    lost_after: timedelta = timedelta(days=30)  # no recovering win this long after: lost
    # a case whose lost moments put at least this much at risk (minor units, by currency) goes
    # to the duty manager at once; a currency not named never escalates by value
    escalate_at_risk: Mapping[str, int] = field(default_factory=dict)


DEFAULT_POLICY = RecoveryPolicy()


@dataclass(frozen=True)
class Playbooks:
    """The rules, the playbooks they pick by name, and how fast recovery must go."""

    rules: tuple[Rule, ...]
    playbooks: Mapping[str, tuple[Step, ...]]
    policy: RecoveryPolicy = DEFAULT_POLICY


@dataclass(frozen=True)
class LossFacts:
    """What the rules may ask of a lost moment."""

    journey_map: str
    stage: str
    standards: tuple[str, ...]  # the standards it broke
    side: str  # of its heaviest broken standard
    weight: Decimal  # of the standards it broke
    tier: str = ""  # the customer's tier at their home site (loyalty's), "" if not ranked yet


@dataclass(frozen=True)
class PlannedStep:
    """A step laid out for a case: its number (from 1) and when it is due; once staff act on
    it, how far it got and who took it."""

    n: int
    action: str
    owner: str
    channel: str
    due_at: datetime
    status: str = "pending"  # pending, acknowledged, done
    taken_by: str = ""
    escalated: bool = False  # to the duty manager, for being late
    taken_at: datetime | None = None  # when it was last moved (done: when it was done)


def default_playbooks_file() -> Path:
    """The playbooks that ship with Touchstone."""
    return shipped("touchstone.notify", "playbooks", "default.yaml")


def load_playbooks(path: Path | None = None) -> Playbooks:
    """The playbooks in the file (the shipped ones if None); PlaybookError with every problem."""
    source = path or default_playbooks_file()
    return parse_playbooks(source.read_text(encoding="utf-8"), str(source))


def parse_playbooks(text: str, origin: str) -> Playbooks:
    """Playbooks from YAML text; PlaybookError naming each place at fault."""
    doc = yaml_mapping(
        text, origin, lambda problems: PlaybookError(origin, problems), "rules and playbooks"
    )
    problems: list[str] = []
    playbooks = {
        str(name): tuple(_steps(raw, f"playbooks.{name}", problems))
        for name, raw in (doc.get("playbooks") or {}).items()
    }
    rules = tuple(_rules(doc.get("rules"), playbooks, problems))
    if not rules or rules[-1].when:
        problems.append(
            "rules: the last rule must have no conditions, so every case has a playbook"
        )
    policy = _policy(doc.get("recovery"), problems)
    for name, steps in playbooks.items():
        problems += playbook_problems(name, steps, policy)
    if problems:
        raise PlaybookError(origin, problems, doc)
    for name, steps in playbooks.items():
        if lacking := missing_recovery(name, steps):
            log.warning("%s: %s", origin, lacking)  # a deployment's choice; told, not refused
    return Playbooks(rules, playbooks, policy)


UNITS = ("minutes", "hours", "days")
RECOVERY = ("apologise", "fix", "ask_opinion", "correct_cause")  # docs/domain.md §9, every time
FIRST_CONTACT = ("apologise", "fix")  # the customer hears from the business, and it is put right


def missing_recovery(name: str, steps: Sequence[Step]) -> str:
    """What a playbook lacks of docs/domain.md §9's four steps, readable; "" when it has all."""
    missing = [action for action in RECOVERY if action not in {s.action for s in steps}]
    if not missing:
        return ""
    return (
        f"playbooks.{name}: lacks {', '.join(missing)} (docs/domain.md §9: apologise, fix it,"
        " ask the customer's opinion, correct the cause)"
    )


def playbook_problems(name: str, steps: Sequence[Step], policy: RecoveryPolicy) -> list[str]:
    """What keeps a playbook from being used: an apology or fix that may come later than
    first_contact_within after the loss."""
    problems = []
    limit = policy.first_contact_within
    for n, step in enumerate(steps):
        late = step.end_of_next_working_day or step.after is None or step.after > limit
        if step.action in FIRST_CONTACT and late:
            problems.append(
                f"playbooks.{name}[{n}].due: a {step.action} step is due within"
                f" {limit.total_seconds() / 3600:g} h of the"
                " loss (recovery.first_contact_within), whatever the calendar"
            )
    return problems


def _policy(raw: Any, problems: list[str]) -> RecoveryPolicy:
    if raw is None:
        return DEFAULT_POLICY
    if not isinstance(raw, dict) or set(raw) - set(vars(DEFAULT_POLICY)):
        problems.append(f"recovery: some of {', '.join(vars(DEFAULT_POLICY))}")
        return DEFAULT_POLICY
    chosen: dict[str, Any] = {}
    for name, value in raw.items():
        if name == "escalate_at_risk":
            chosen[name] = _amounts(value, problems)
            continue
        duration = _duration(value)
        if duration is None:
            problems.append(f"recovery.{name}: one of {', '.join(UNITS)}: a number above 0")
        else:
            chosen[name] = duration
    return RecoveryPolicy(**chosen)


def _amounts(raw: Any, problems: list[str]) -> dict[str, int]:
    """{CURRENCY: minor units above 0}, e.g. {VND: 10000000}."""
    if not isinstance(raw, dict):
        problems.append("recovery.escalate_at_risk: {CURRENCY: amount in minor units}")
        return {}
    amounts = {}
    for currency, amount in raw.items():
        code = str(currency)
        whole = isinstance(amount, int) and not isinstance(amount, bool) and amount > 0
        if len(code) != 3 or not code.isalpha() or not code.isupper() or not whole:
            problems.append(
                f"recovery.escalate_at_risk.{code}: an ISO 4217 code and a whole amount above 0"
            )
            continue
        amounts[code] = amount
    return amounts


def _duration(raw: Any) -> timedelta | None:
    """{minutes: N}, {hours: N} or {days: N} with N above 0 and at most a year; else None."""
    if not isinstance(raw, dict) or len(raw) != 1:
        return None
    ((unit, amount),) = raw.items()
    if unit not in UNITS or not (isinstance(amount, int | float) and not isinstance(amount, bool)):
        return None
    duration = timedelta(**{unit: float(amount)})
    return duration if timedelta(0) < duration <= timedelta(days=366) else None


def _rules(raw: Any, playbooks: Mapping[str, Any], problems: list[str]) -> list[Rule]:
    if not isinstance(raw, list) or not raw:
        problems.append("rules: a list of rules is required")
        return []
    rules = []
    for n, entry in enumerate(raw):
        where = f"rules[{n}]"
        entry = entry if isinstance(entry, dict) else {}
        name, when = entry.get("playbook"), entry.get("when") or {}
        if name not in playbooks:
            problems.append(f"{where}.playbook: {name!r} is not one of the playbooks")
        if not isinstance(when, dict) or set(when) - set(CONDITIONS):
            problems.append(f"{where}.when: conditions are some of {', '.join(CONDITIONS)}")
            when = {}
        if when.get("side", "personal") not in SIDES:
            problems.append(f"{where}.when.side: must be one of {', '.join(SIDES)}")
        for text in ("map", "stage", "standard", "tier"):
            if text in when and not isinstance(when[text], str):
                problems.append(f"{where}.when.{text}: must be a name, not {when[text]!r}")
        if "min_weight" in when and not _positive(when["min_weight"]):
            problems.append(f"{where}.when.min_weight: must be a number above 0")
        rules.append(Rule(str(name), dict(when)))
    return rules


def _steps(raw: Any, where: str, problems: list[str]) -> list[Step]:
    if not isinstance(raw, list) or not raw:
        problems.append(f"{where}: a list of steps is required")
        return []
    steps = []
    for n, entry in enumerate(raw):
        at = f"{where}[{n}]"
        entry = entry if isinstance(entry, dict) else {}
        for name, allowed in (("action", ACTIONS), ("owner", OWNERS), ("channel", CHANNELS)):
            if entry.get(name) not in allowed:
                problems.append(f"{at}.{name}: must be one of {', '.join(allowed)}")
        raw_due = entry.get("due")
        due: dict[str, Any] = raw_due if isinstance(raw_due, dict) else {}
        minutes: Any = due.get("minutes")
        if "hours" in due and minutes is None and _positive(due["hours"]):
            minutes = due["hours"] * 60
        working = due.get("end_of_next_working_day") is True
        if working == (minutes is not None) or (minutes is not None and not _positive(minutes)):
            problems.append(
                f"{at}.due: either minutes or hours (above 0, at most a year)"
                " or end_of_next_working_day: true"
            )
        after = timedelta(minutes=float(minutes)) if _positive(minutes) else None
        steps.append(
            Step(
                str(entry.get("action")),
                str(entry.get("owner")),
                str(entry.get("channel")),
                after,
                working,
            )
        )
    return steps


MAX_MINUTES = 366 * 24 * 60  # a step due more than a year after the loss is a mistake


def _positive(value: Any) -> bool:
    """A finite number above 0 (and at most a year of minutes)."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return number and 0 < value <= MAX_MINUTES


def matches(when: Mapping[str, Any], loss: LossFacts) -> bool:
    """Whether the lost moment meets every condition."""
    return (
        when.get("map", loss.journey_map) == loss.journey_map
        and when.get("stage", loss.stage) == loss.stage
        and ("standard" not in when or when["standard"] in loss.standards)
        and when.get("side", loss.side) == loss.side
        and loss.weight >= Decimal(str(when.get("min_weight", 0)))
        and when.get("tier", loss.tier) == loss.tier
    )


def choose(playbooks: Playbooks, loss: LossFacts) -> str:
    """The playbook the first matching rule picks (the last rule matches everything)."""
    return next(rule.playbook for rule in playbooks.rules if matches(rule.when, loss))


def lay_out(
    steps: Sequence[Step], lost_at: datetime, calendar: BusinessCalendar
) -> list[PlannedStep]:
    """The steps with their due times, from the lost moment's event time."""
    return [
        PlannedStep(
            n,
            step.action,
            step.owner,
            step.channel,
            calendar.end_of_next_working_day(lost_at)
            if step.end_of_next_working_day or step.after is None
            else lost_at + step.after,
        )
        for n, step in enumerate(steps, start=1)
    ]
