"""Callers limited to some sites: staff see and work only their own sites' cases, managers see
only their own sites' visits, maps, figures and customers, a producer streams only its own
site's touchpoints, and another site's case, visit, customer and value answer every role as
if they did not exist."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from tests.e2e.authentication_support import code_and_details, signed
from tests.e2e.journey_support import eventually
from tests.e2e.test_replay import publish_visits
from touchstone.contacts.v1 import contacts_service_pb2 as contacts
from touchstone.contacts.v1 import touchpoint_pb2 as touchpoint
from touchstone.journey.v1 import journey_service_pb2 as journey
from touchstone.loyalty.v1 import loyalty_service_pb2 as loyalty
from touchstone.notify.v1 import notify_service_pb2 as notify
from touchstone.platform.security.auth import ROLES
from touchstone.tools.dev.stack import LocalStack
from touchstone.tools.ops.client import Clients

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def cases_by_site(stack: LocalStack) -> dict[str, list[str]]:
    """Recovery cases at two or more sites, from simulated visits."""
    publish_visits(stack.settings, 21, 150)
    found: dict[str, list[str]] = {}

    def two_sites() -> bool:
        with Clients(stack.settings) as admin:
            listed = admin.notify.ListCases(notify.ListCasesRequest(page_size=500), timeout=10)
        found.clear()
        for case in listed.cases:
            found.setdefault(case.site_id, []).append(case.case_id)
        return len([s for s in found if s.startswith(("hcm", "hn"))]) >= 2

    eventually(two_sites, "cases at two store sites")
    return found


def sites_of(admin: Clients, customer_id: str) -> set[str]:
    """The sites the customer came to."""
    request = contacts.ListTouchpointsRequest(customer_id=customer_id, page_size=500)
    listed = admin.contacts.ListTouchpoints(request, timeout=10)
    return {t.touchpoint.site_id for t in listed.touchpoints}


def test_staff_see_and_work_only_their_own_sites_cases(
    stack: LocalStack, cases_by_site: dict[str, list[str]]
) -> None:
    mine, other = sorted(s for s in cases_by_site if s.startswith(("hcm", "hn")))[:2]
    staff = signed(stack.settings, roles=["staff"], sites=[mine], subject="staff-of-" + mine)
    with Clients(stack.settings, token=staff) as lan, Clients(stack.settings) as admin:
        own = lan.notify.ListCases(notify.ListCasesRequest(site_id=mine), timeout=10)
        assert own.cases and {c.site_id for c in own.cases} == {mine}
        assert code_and_details(
            lambda: lan.notify.ListCases(notify.ListCasesRequest(), timeout=10)
        ) == ("PERMISSION_DENIED", f"name a site (site_id): this caller may see only {mine}")
        assert code_and_details(
            lambda: lan.notify.ListCases(notify.ListCasesRequest(site_id=other), timeout=10)
        ) == ("PERMISSION_DENIED", f"site {other} is not one of this caller's sites ({mine})")
        theirs = cases_by_site[other][0]
        assert code_and_details(
            lambda: lan.notify.GetCase(notify.GetCaseRequest(case_id=theirs), timeout=10)
        ) == ("NOT_FOUND", f"case {theirs} not found")  # as for a case that does not exist
        assert code_and_details(
            lambda: lan.notify.CompleteStep(
                notify.StepCommand(case_id=theirs, n=1, by="staff-of-" + mine), timeout=10
            )
        ) == ("NOT_FOUND", f"case {theirs} not found")
        after = admin.notify.GetCase(notify.GetCaseRequest(case_id=theirs), timeout=10)
        # refused before it acted (the case may move on by itself meanwhile: its clock, mail)
        assert all(step.taken_by != "staff-of-" + mine for step in after.steps)
        assert (
            code_and_details(
                lambda: next(iter(lan.notify.WatchTasks(notify.WatchTasksRequest(), timeout=5)))
            )[0]
            == "PERMISSION_DENIED"
        )
        own_case = own.cases[0].case_id
        as_someone_else = notify.StepCommand(case_id=own_case, n=1, by="someone-else")
        assert code_and_details(lambda: lan.notify.CompleteStep(as_someone_else, timeout=10)) == (
            "PERMISSION_DENIED",
            f"staff act under their own name: by is 'someone-else', the token is 'staff-of-{mine}'",
        )


def test_managers_see_only_their_own_sites(
    stack: LocalStack, cases_by_site: dict[str, list[str]]
) -> None:
    mine, other = sorted(s for s in cases_by_site if s.startswith(("hcm", "hn")))[:2]
    manager = signed(stack.settings, roles=["manager"], sites=[mine])
    with Clients(stack.settings, token=manager) as boss:
        visits = boss.journey.ListVisits(journey.ListVisitsRequest(site_id=mine), timeout=10)
        assert {v.site_id for v in visits.visits} <= {mine}
        for call in (
            lambda: boss.journey.ListVisits(journey.ListVisitsRequest(site_id=other), timeout=10),
            lambda: boss.journey.GetJourneyMap(
                journey.GetJourneyMapRequest(site_id=other), timeout=10
            ),
            lambda: boss.notify.GetControlFigures(
                notify.GetControlFiguresRequest(site_id=other), timeout=10
            ),
            lambda: boss.loyalty.ListTopCustomers(
                loyalty.ListTopCustomersRequest(site_id=other), timeout=10
            ),
        ):
            assert code_and_details(call)[0] == "PERMISSION_DENIED"


def test_a_producer_of_one_site_cannot_stream_another_sites_touchpoints(
    stack: LocalStack,
) -> None:
    producer = signed(stack.settings, roles=["producer"], sites=["hcm-01"], subject="till-hcm-01")
    mine, theirs = (
        contacts.IngestRequest(
            touchpoint=touchpoint.Touchpoint(event_id=str(uuid.uuid4()), site_id=site)
        )
        for site in ("hcm-01", "hn-01")
    )
    with Clients(stack.settings, token=producer) as till:
        assert till.contacts.IngestStream(iter([mine]), timeout=10).results  # its own site
        assert code_and_details(
            lambda: till.contacts.IngestStream(iter([mine, theirs]), timeout=10)
        ) == ("PERMISSION_DENIED", "site hn-01 is not one of this caller's sites (hcm-01)")


def test_a_manager_finds_only_customers_who_came_to_their_sites(
    stack: LocalStack, cases_by_site: dict[str, list[str]]
) -> None:
    mine, other = sorted(s for s in cases_by_site if s.startswith(("hcm", "hn")))[:2]
    manager = signed(stack.settings, roles=["manager"], sites=[mine])

    with Clients(stack.settings) as admin, Clients(stack.settings, token=manager) as boss:
        customers = {
            site: [
                admin.notify.GetCase(notify.GetCaseRequest(case_id=c), timeout=10).customer_id
                for c in cases_by_site[site]
            ]
            for site in (mine, other)
        }
        ours = customers[mine][0]
        elsewhere = [c for c in customers[other] if mine not in sites_of(admin, c)]
        assert elsewhere, f"every customer of {other} also came to {mine}"
        found = boss.contacts.GetCustomer(contacts.GetCustomerRequest(customer_id=ours), timeout=10)
        assert found.customer_id == ours
        for customer_id in (elsewhere[0], "no-such-customer"):  # one answer: nothing to learn
            assert code_and_details(
                lambda c=customer_id: boss.contacts.GetCustomer(
                    contacts.GetCustomerRequest(customer_id=c), timeout=10
                )
            ) == ("NOT_FOUND", f"customer {customer_id} not found")


Probe = Callable[[Clients, str, str], object]  # clients, the id, the token's subject


def probes(case_id: str, visit_id: str, customer_id: str) -> dict[str, tuple[str, Probe]]:
    """Every RPC that names a case, visit or customer of its own: the id of another site's
    to try it on, and the call."""
    return {
        "notify.GetCase": (
            case_id,
            lambda c, x, me: c.notify.GetCase(notify.GetCaseRequest(case_id=x), timeout=10),
        ),
        "notify.AcknowledgeStep": (
            case_id,
            lambda c, x, me: c.notify.AcknowledgeStep(
                notify.StepCommand(case_id=x, n=1, by=me), timeout=10
            ),
        ),
        "notify.CompleteStep": (
            case_id,
            lambda c, x, me: c.notify.CompleteStep(
                notify.StepCommand(case_id=x, n=1, by=me), timeout=10
            ),
        ),
        "notify.ResolveCase": (
            case_id,
            lambda c, x, me: c.notify.ResolveCase(
                notify.ResolveCaseRequest(case_id=x, by=me), timeout=10
            ),
        ),
        "journey.GetVisit": (
            visit_id,
            lambda c, x, me: c.journey.GetVisit(journey.GetVisitRequest(visit_id=x), timeout=10),
        ),
        "loyalty.GetCustomerValue": (
            customer_id,
            lambda c, x, me: c.loyalty.GetCustomerValue(
                loyalty.GetCustomerValueRequest(customer_id=x), timeout=10
            ),
        ),
        "contacts.GetCustomer": (
            customer_id,
            lambda c, x, me: c.contacts.GetCustomer(
                contacts.GetCustomerRequest(customer_id=x), timeout=10
            ),
        ),
        "contacts.UpdateCustomer": (
            customer_id,
            lambda c, x, me: c.contacts.UpdateCustomer(
                contacts.UpdateCustomerRequest(customer_id=x), timeout=10
            ),
        ),
        "contacts.UpdateConsent": (
            customer_id,
            lambda c, x, me: c.contacts.UpdateConsent(
                contacts.UpdateConsentRequest(customer_id=x), timeout=10
            ),
        ),
        "contacts.MergeCustomers": (
            customer_id,
            lambda c, x, me: c.contacts.MergeCustomers(
                contacts.MergeCustomersRequest(survivor_id=x, absorbed_id=x, reason="probe"),
                timeout=10,
            ),
        ),
        "contacts.UnmergeCustomers": (
            customer_id,
            lambda c, x, me: c.contacts.UnmergeCustomers(
                contacts.UnmergeCustomersRequest(customer_id=x, reason="probe"), timeout=10
            ),
        ),
        "contacts.EraseCustomer": (
            customer_id,
            lambda c, x, me: c.contacts.EraseCustomer(
                contacts.EraseCustomerRequest(customer_id=x), timeout=10
            ),
        ),
    }


def test_another_sites_case_visit_customer_and_value_are_as_if_they_did_not_exist(
    stack: LocalStack, cases_by_site: dict[str, list[str]]
) -> None:
    """A token of every role limited to one site tries every RPC on another site's things:
    each answer is exactly the one for an id that does not exist (the id aside)."""
    mine, other = sorted(s for s in cases_by_site if s.startswith(("hcm", "hn")))[:2]
    missing = "no-such-id"
    with Clients(stack.settings) as admin:
        theirs = [
            admin.notify.GetCase(notify.GetCaseRequest(case_id=c), timeout=10)
            for c in cases_by_site[other]
        ]
        case = next(c for c in theirs if mine not in sites_of(admin, c.customer_id))
        before = admin.contacts.GetCustomer(
            contacts.GetCustomerRequest(customer_id=case.customer_id), timeout=10
        )
    differing = []
    for role in ROLES:
        me = f"probe-{role}"
        token = signed(stack.settings, roles=[role], sites=[mine], subject=me)
        with Clients(stack.settings, token=token) as limited:
            for name, (foreign, call) in probes(
                case.case_id, case.visit_id, case.customer_id
            ).items():
                got = code_and_details(lambda: call(limited, foreign, me))  # noqa: B023
                none = code_and_details(lambda: call(limited, missing, me))  # noqa: B023
                if got != (none[0], none[1].replace(missing, foreign)):
                    differing.append(f"{name} as {role}: {got} vs {none}")
    assert differing == []
    admin_of_mine = signed(stack.settings, roles=["admin"], sites=[mine], subject="probe-admin")
    with Clients(stack.settings, token=admin_of_mine) as limited:
        register = contacts.RegisterCustomerRequest(customer_id=case.customer_id)
        register.profile.display_name = "someone else"
        assert code_and_details(
            lambda: limited.contacts.RegisterCustomer(register, timeout=10)
        ) == (
            "ALREADY_EXISTS",
            f"customer {case.customer_id} is already registered",
        )
    with Clients(stack.settings) as admin:  # nothing was changed, merged or erased
        after = admin.contacts.GetCustomer(
            contacts.GetCustomerRequest(customer_id=case.customer_id), timeout=10
        )
    assert after == before
