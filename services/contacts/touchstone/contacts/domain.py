"""Contacts' rules: what makes a touchpoint acceptable, who its customer is, which visit."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from touchstone.contacts.identity_keys import DEVELOPMENT_KEYS, IdentityKeys
from touchstone.platform.runtime.ids import derived_id
from touchstone.shared_kernel.calendar import Calendars
from touchstone.shared_kernel.journey_maps import Stage

MAX_EVENT_ID_LENGTH = 128
MAX_TEXT_LENGTH = 256
DEFAULT_FUTURE_TOLERANCE = timedelta(minutes=5)
DEFAULT_LATE_AFTER = timedelta(hours=24)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
DEFAULT_MAX_TOUCHPOINT_BYTES = 65_536  # Settings.max_touchpoint_bytes
DEFAULT_COUNTRY_CODE = "84"  # national phone numbers (leading 0) are Vietnamese, as in the seeds
MEASUREMENT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
TEXT_FIELDS = (
    "event_id",
    "source",
    "journey_map",
    "stage",
    "site_id",
    "visit_id",
    "customer_id",
    "identity_value",
)
CURRENCY = re.compile(r"^[A-Z]{3}$")
IDENTITY_KINDS = frozenset({"loyalty_card", "phone", "email", "account"})


@dataclass(frozen=True)
class TouchpointFacts:
    """What contacts' rules need to know of a touchpoint, independent of its encoding."""

    event_id: str
    occurred_at: datetime | None
    source: str
    customer_id: str
    identity_kind: str  # one of IDENTITY_KINDS, or "" when absent
    identity_value: str
    journey_map: str
    stage: str
    site_id: str
    visit_id: str = ""
    measurements: Mapping[str, float] = field(default_factory=dict)
    observations: tuple[str, ...] = ()
    purchase_currency: str = ""
    purchase_minor_units: int = 0
    feedback_rating: int = 0
    occurred_at_error: str = ""  # why occurred_at could not be read, when it could not


class Outcome(Enum):
    """What became of one touchpoint that reached contacts."""

    RECORDED = "recorded"  # new, stored and published
    DUPLICATE = "duplicate"  # the same event id with the same content: stored once already
    CONFLICT = "conflict"  # the same event id with other content: quarantined, never overwritten
    REJECTED = "rejected"  # invalid: dead-lettered (Kafka) or refused (gRPC)


@dataclass(frozen=True)
class IngestPolicy:
    """How far ahead of its arrival an event may claim to be, and when it counts as late."""

    future_tolerance: timedelta = DEFAULT_FUTURE_TOLERANCE  # producers' clocks drift
    earliest: datetime = EARLIEST  # before this, the producer's clock was never set
    # map -> stage -> measurement -> unit; empty: any map and stage (journey maps not loaded)
    stages: Mapping[str, Mapping[str, Mapping[str, str]]] = field(default_factory=dict)
    late_after: timedelta = DEFAULT_LATE_AFTER  # accepted, but marked late for downstream
    # (map, stage) -> the stage with its vocabulary; empty: no vocabulary to check against
    vocabulary: Mapping[tuple[str, str], Stage] = field(default_factory=dict)
    # whose days a site lives by (its business calendar's zone); None: UTC days
    calendars: Calendars | None = None
    max_bytes: int = DEFAULT_MAX_TOUCHPOINT_BYTES  # a touchpoint's encoded size, at most
    identity_keys: IdentityKeys = DEVELOPMENT_KEYS  # for provisional customer ids (settings')

    def local_day(self, site_id: str, at: datetime) -> date:
        """The site's own day at that time: a visit does not split at UTC midnight."""
        if self.calendars is None:
            return at.astimezone(UTC).date()
        return at.astimezone(ZoneInfo(self.calendars.for_site(site_id).time_zone)).date()  # cached


DEFAULT_INGEST_POLICY = IngestPolicy()


@dataclass(frozen=True)
class Violation:
    """One reason a touchpoint is rejected: the field and what is wrong with it."""

    field: str
    reason: str


def too_large(size: int, policy: IngestPolicy) -> list[Violation]:
    """Why a touchpoint of this many bytes is refused (TOUCHSTONE_MAX_TOUCHPOINT_BYTES), if it is:
    whatever it carries, its record downstream must fit the broker's limit."""
    if size <= policy.max_bytes:
        return []
    limit = policy.max_bytes
    return [Violation("value", f"is {size:,} bytes; a touchpoint may be at most {limit:,}")]


def validate(
    facts: TouchpointFacts, received_at: datetime, policy: IngestPolicy = DEFAULT_INGEST_POLICY
) -> list[Violation]:
    """Every violation in the touchpoint; an empty list means it may be recorded."""
    return [
        *_identity_violations(facts),
        *_control_character_violations(facts),
        *_time_violations(facts, received_at, policy),
        *_customer_violations(facts),
        *_stage_violations(facts, policy),
        *_measurement_violations(facts.measurements),
        *_purchase_violations(facts),
        *_feedback_violations(facts.feedback_rating),
    ]


def _identity_violations(facts: TouchpointFacts) -> list[Violation]:
    found = []
    if not facts.event_id:
        found.append(Violation("event_id", "is required"))
    elif len(facts.event_id) > MAX_EVENT_ID_LENGTH:
        found.append(Violation("event_id", f"is longer than {MAX_EVENT_ID_LENGTH} characters"))
    for name in ("source", "journey_map", "stage", "site_id"):
        value = getattr(facts, name)
        if not value:
            found.append(Violation(name, "is required"))
        elif len(value) > MAX_TEXT_LENGTH:
            found.append(Violation(name, f"is longer than {MAX_TEXT_LENGTH} characters"))
    return found


def _control_character_violations(facts: TouchpointFacts) -> list[Violation]:
    return [
        Violation(name, "must not contain control characters")
        for name in TEXT_FIELDS
        if CONTROL_CHARACTERS.search(getattr(facts, name))
    ]


def _time_violations(
    facts: TouchpointFacts, received_at: datetime, policy: IngestPolicy
) -> list[Violation]:
    occurred_at = facts.occurred_at
    if facts.occurred_at_error:
        return [Violation("occurred_at", facts.occurred_at_error)]
    if occurred_at is None:
        return [Violation("occurred_at", "is required")]
    if occurred_at < policy.earliest:
        return [Violation("occurred_at", f"is before {policy.earliest.date()}: an unset clock?")]
    if occurred_at > received_at + policy.future_tolerance:
        ahead = (occurred_at - received_at).total_seconds()
        tolerance = policy.future_tolerance
        return [Violation("occurred_at", f"is {ahead:.0f}s in the future (tolerance {tolerance})")]
    return []


def _customer_violations(facts: TouchpointFacts) -> list[Violation]:
    if facts.customer_id:
        return []
    if not facts.identity_kind:
        return [Violation("customer", "needs a customer_id or an external identity")]
    if facts.identity_kind not in IDENTITY_KINDS:
        known = ", ".join(sorted(IDENTITY_KINDS))
        return [Violation("customer.identity.kind", f"must be one of {known}")]
    if not normalise_identity(facts.identity_kind, facts.identity_value):
        return [Violation("customer.identity.value", "is required")]
    return []


def _stage_violations(facts: TouchpointFacts, policy: IngestPolicy) -> list[Violation]:
    if not policy.stages or not facts.journey_map or not facts.stage:
        return []
    stages = policy.stages.get(facts.journey_map)
    if stages is None:
        known = ", ".join(sorted(policy.stages))
        return [
            Violation(
                "journey_map", f"unknown map {printable(facts.journey_map)!r}; known: {known}"
            )
        ]
    if facts.stage not in stages:
        return [
            Violation("stage", f"{printable(facts.stage)!r} is not a stage of {facts.journey_map}")
        ]
    units = stages[facts.stage]
    return [
        Violation(f"measurements[{name}]", f"counts {unit}: must be a whole number")
        for name, unit in units.items()
        if unit == "count" and not float(facts.measurements.get(name, 0)).is_integer()
    ]


def _measurement_violations(measurements: Mapping[str, float]) -> list[Violation]:
    found = []
    for name, value in measurements.items():
        field_name = f"measurements[{printable(name)}]"
        if not MEASUREMENT_NAME.match(name):
            found.append(Violation(field_name, "names are snake_case, at most 64 characters"))
        if not math.isfinite(value) or value < 0:
            found.append(Violation(field_name, "must be a finite number, not negative"))
    return found


def _purchase_violations(facts: TouchpointFacts) -> list[Violation]:
    if not facts.purchase_currency and not facts.purchase_minor_units:
        return []
    found = []
    if not CURRENCY.match(facts.purchase_currency):
        found.append(Violation("purchase.currency", "must be an ISO 4217 code such as VND"))
    if facts.purchase_minor_units < 0:
        found.append(Violation("purchase.minor_units", "must not be negative"))
    return found


def _feedback_violations(rating: int) -> list[Violation]:
    if rating and not 1 <= rating <= 5:
        return [Violation("feedback.rating", "must be between 1 and 5")]
    return []


UNKNOWN_MEASUREMENT = "unknown_measurement"
UNKNOWN_OBSERVATION = "unknown_observation"
OUT_OF_RANGE = "out_of_range"


@dataclass(frozen=True, order=True)
class VocabularyGap:
    """A word in a recorded touchpoint that its stage does not declare, or a value outside the
    stage's plausible range: recorded all the same, but no standard can read it as meant."""

    kind: str  # UNKNOWN_MEASUREMENT, UNKNOWN_OBSERVATION or OUT_OF_RANGE
    name: str


def vocabulary_gaps(facts: TouchpointFacts, policy: IngestPolicy) -> tuple[VocabularyGap, ...]:
    """What of the touchpoint its stage's vocabulary does not know (docs/domain.md §4: a
    standard is only as good as the words producers and standards share)."""
    stage = policy.vocabulary.get((facts.journey_map, facts.stage))
    if stage is None:
        return ()
    gaps = set()
    for name, value in facts.measurements.items():
        if name not in stage.measurements:
            gaps.add(VocabularyGap(UNKNOWN_MEASUREMENT, printable(name)))
        elif not stage.ranges[name][0] <= value <= stage.ranges[name][1]:
            gaps.add(VocabularyGap(OUT_OF_RANGE, name))
    gaps.update(
        VocabularyGap(UNKNOWN_OBSERVATION, printable(name))
        for name in facts.observations
        if name not in stage.observations
    )
    return tuple(sorted(gaps))


def normalise_identity(kind: str, value: str) -> str:
    """The canonical form of an external identity value, so one customer matches one key."""
    value = value.strip()
    if kind == "email":
        return value.lower()
    if kind == "phone":
        return e164(value)
    return value


def e164(phone: str, country_code: str = DEFAULT_COUNTRY_CODE) -> str:
    """A phone number in E.164: +, country code, number; national numbers get country_code."""
    digits = re.sub(r"\D", "", phone)
    if phone.strip().startswith("+"):
        return f"+{digits}" if digits else ""
    if digits.startswith("00"):
        return f"+{digits[2:]}"
    if digits.startswith("0"):
        return f"+{country_code}{digits[1:]}"
    return f"+{digits}" if digits else ""


def resolve_customer_id(
    facts: TouchpointFacts,
    owners: Mapping[tuple[str, str], str] | None,
    keys: IdentityKeys,
) -> str:
    """Touchstone's customer id: the given one, the identity's owner, or one derived from it."""
    if facts.customer_id:
        return facts.customer_id
    identity = (facts.identity_kind, normalise_identity(facts.identity_kind, facts.identity_value))
    if owners and identity in owners:
        return owners[identity]
    return resolve_identity_id(*identity, keys)


def resolve_identity_id(kind: str, canonical_value: str, keys: IdentityKeys) -> str:
    """The provisional customer id of an identity nobody has claimed: stable, deterministic,
    and from a keyed hash of it, so the id gives the identity back to nobody without the key."""
    return derived_id("customer", kind, keys.digest(kind, canonical_value).hex())


def resolve_visit_id(
    facts: TouchpointFacts, customer_id: str, policy: IngestPolicy = DEFAULT_INGEST_POLICY
) -> str:
    """The touchpoint's own visit id, or one per customer, map, site and the site's local day."""
    if facts.visit_id:
        return facts.visit_id
    at = facts.occurred_at
    day = policy.local_day(facts.site_id, at).isoformat() if at else ""
    return derived_id("visit", customer_id, facts.journey_map, facts.site_id, day)


def is_late(occurred_at: datetime, received_at: datetime, policy: IngestPolicy) -> bool:
    """Whether the touchpoint arrived more than policy.late_after after it happened."""
    return received_at - occurred_at > policy.late_after


def conflict_violation(event_id: str) -> Violation:
    """Why a second, different touchpoint under a recorded event id is refused."""
    return Violation("event_id", f"{event_id} is already recorded with different content")


def classify_repeat(payload: bytes, recorded_payload: bytes) -> Outcome:
    """A repeat of a recorded event id: a duplicate if identical, else a conflict."""
    return Outcome.DUPLICATE if payload == recorded_payload else Outcome.CONFLICT


def printable(text: str, limit: int = 64) -> str:
    """Text safe to quote in a reason: control characters escaped, cut to a readable length."""
    escaped = CONTROL_CHARACTERS.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return escaped if len(escaped) <= limit else escaped[:limit] + "…"
