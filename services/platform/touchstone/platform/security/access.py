"""Who may call what: each RPC's roles, in one table; anything not in it is refused.

- producer: ingest touchpoints, nothing else;
- staff: recovery cases and tasks (read, acknowledge, complete);
- manager: moments, visits, journey maps, values, cases and control figures, and case commands;
- auditor: every read, no command (personal data masked: issue 8, item 4);
- admin: everything (standards, customers, erasure, dead letters);
- service: another system acting for Touchstone (registering customers, say).
"""

from __future__ import annotations

from collections.abc import Mapping

from touchstone.platform.security.auth import Principal

PRODUCER, STAFF, MANAGER, ADMIN, AUDITOR, SERVICE = (
    "producer",
    "staff",
    "manager",
    "admin",
    "auditor",
    "service",
)
READERS = frozenset({MANAGER, ADMIN, AUDITOR})
CASE_READERS = READERS | {STAFF}
CASE_WORKERS = frozenset({STAFF, MANAGER, ADMIN})
INGESTERS = frozenset({PRODUCER, ADMIN, SERVICE})
CUSTOMER_KEEPERS = frozenset({ADMIN, SERVICE})
ADMINS = frozenset({ADMIN})

POLICY: Mapping[str, frozenset[str]] = {
    # contacts
    "touchstone.contacts.v1.ContactsService/Ingest": INGESTERS,
    "touchstone.contacts.v1.ContactsService/IngestBatch": INGESTERS,
    "touchstone.contacts.v1.ContactsService/IngestStream": INGESTERS,
    "touchstone.contacts.v1.ContactsService/ListDeadLetters": ADMINS | {AUDITOR},
    "touchstone.contacts.v1.ContactsService/GetDeadLetter": ADMINS,  # the original bytes
    "touchstone.contacts.v1.ContactsService/RedriveDeadLetters": ADMINS,
    "touchstone.contacts.v1.ContactsService/RegisterCustomer": CUSTOMER_KEEPERS,
    "touchstone.contacts.v1.ContactsService/UpdateCustomer": CUSTOMER_KEEPERS,
    "touchstone.contacts.v1.ContactsService/UpdateConsent": CUSTOMER_KEEPERS,
    "touchstone.contacts.v1.ContactsService/MergeCustomers": ADMINS,
    "touchstone.contacts.v1.ContactsService/UnmergeCustomers": ADMINS,
    "touchstone.contacts.v1.ContactsService/EraseCustomer": ADMINS,
    "touchstone.contacts.v1.ContactsService/FindCustomer": CUSTOMER_KEEPERS | READERS,
    "touchstone.contacts.v1.ContactsService/GetCustomer": CUSTOMER_KEEPERS | READERS,
    "touchstone.contacts.v1.ContactsService/ListTouchpoints": READERS,
    "touchstone.contacts.v1.ContactsService/GetIngestStats": READERS,
    # journey
    "touchstone.journey.v1.JourneyService/ListMoments": READERS,
    "touchstone.journey.v1.JourneyService/GetVisit": READERS,
    "touchstone.journey.v1.JourneyService/ListVisits": READERS,
    "touchstone.journey.v1.JourneyService/ListStandards": READERS,
    "touchstone.journey.v1.JourneyService/ValidateStandards": ADMINS,
    "touchstone.journey.v1.JourneyService/WatchMoments": READERS,
    "touchstone.journey.v1.JourneyService/GetScoreStats": READERS,
    "touchstone.journey.v1.JourneyService/GetJourneyMap": READERS,
    # loyalty
    "touchstone.loyalty.v1.LoyaltyService/GetCustomerValue": READERS,
    "touchstone.loyalty.v1.LoyaltyService/GetValueAtRisk": READERS,
    "touchstone.loyalty.v1.LoyaltyService/ListTopCustomers": READERS,
    "touchstone.loyalty.v1.LoyaltyService/WatchValues": READERS,
    # notify
    "touchstone.notify.v1.NotifyService/ListCases": CASE_READERS,
    "touchstone.notify.v1.NotifyService/GetCase": CASE_READERS,
    "touchstone.notify.v1.NotifyService/AcknowledgeStep": CASE_WORKERS,
    "touchstone.notify.v1.NotifyService/CompleteStep": CASE_WORKERS,
    "touchstone.notify.v1.NotifyService/ResolveCase": CASE_WORKERS,
    "touchstone.notify.v1.NotifyService/WatchCases": CASE_READERS,
    "touchstone.notify.v1.NotifyService/WatchTasks": CASE_READERS,
    "touchstone.notify.v1.NotifyService/GetControlFigures": READERS,
}


# the RPCs that change something: each call is audited, whatever its outcome
COMMANDS = frozenset(
    f"touchstone.{rpc}"
    for rpc in (
        "contacts.v1.ContactsService/Ingest",
        "contacts.v1.ContactsService/IngestBatch",
        "contacts.v1.ContactsService/IngestStream",
        "contacts.v1.ContactsService/RedriveDeadLetters",
        "contacts.v1.ContactsService/RegisterCustomer",
        "contacts.v1.ContactsService/UpdateCustomer",
        "contacts.v1.ContactsService/UpdateConsent",
        "contacts.v1.ContactsService/MergeCustomers",
        "contacts.v1.ContactsService/UnmergeCustomers",
        "contacts.v1.ContactsService/EraseCustomer",
        "notify.v1.NotifyService/AcknowledgeStep",
        "notify.v1.NotifyService/CompleteStep",
        "notify.v1.NotifyService/ResolveCase",
    )
)


def is_command(method: str) -> bool:
    """Whether the RPC (/package.Service/Rpc) changes something."""
    return method.lstrip("/") in COMMANDS


def refusal(method: str, caller: Principal) -> str:
    """Why the caller may not call the method ('' when it may). method: /package.Service/Rpc."""
    allowed = POLICY.get(method.lstrip("/"))
    if allowed is None:
        return f"{method} is in no access rule, so no one may call it"
    if caller.has_any(allowed):
        return ""
    roles = ", ".join(sorted(caller.roles)) or "none"
    return f"{method} needs one of the roles {', '.join(sorted(allowed))}; the caller has {roles}"
