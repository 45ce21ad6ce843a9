"""Site scoping on the messages themselves: a caller of some sites names one of them, never gets
another site's record, and finds other sites' entries dropped from lists."""

from __future__ import annotations

from touchstone.journey.v1 import journey_service_pb2 as journey
from touchstone.loyalty.v1 import loyalty_service_pb2 as loyalty
from touchstone.notify.v1 import notify_service_pb2 as notify
from touchstone.platform.security.auth import Principal
from touchstone.platform.security.site_scope import foreign_site, limited, prune, request_refusal

LAN = Principal("lan", frozenset({"staff"}), frozenset({"hcm-01"}))
EVERYWHERE = Principal("boss", frozenset({"admin"}), frozenset({"*"}))


def test_a_request_must_name_one_of_the_callers_sites() -> None:
    assert request_refusal(notify.ListCasesRequest(site_id="hcm-01"), LAN) == ""
    assert request_refusal(notify.ListCasesRequest(site_id="hn-01"), LAN) == (
        "site hn-01 is not one of this caller's sites (hcm-01)"
    )
    assert request_refusal(notify.WatchTasksRequest(), LAN) == (
        "name a site (site_id): this caller may see only hcm-01"
    )
    assert request_refusal(notify.GetCaseRequest(case_id="c-1"), LAN) == ""  # no site field
    assert request_refusal(notify.WatchTasksRequest(), EVERYWHERE) == ""
    assert limited(LAN) and not limited(EVERYWHERE) and not limited(None)


def test_a_record_of_another_site_is_foreign_even_when_nested() -> None:
    assert foreign_site(notify.Case(case_id="c", site_id="hn-01"), LAN) == "hn-01"
    assert foreign_site(notify.Case(case_id="c", site_id="hcm-01"), LAN) == ""
    update = loyalty.WatchValuesResponse()
    update.update.value.site_id = "hcm-02"
    assert foreign_site(update, LAN) == "hcm-02"
    assert foreign_site(update, EVERYWHERE) == ""


def test_other_sites_entries_are_dropped_from_lists_at_any_depth() -> None:
    cases = notify.ListCasesResponse(
        cases=[notify.Case(case_id=c, site_id=s) for c, s in (("a", "hcm-01"), ("b", "hn-01"))]
    )
    prune(cases, LAN)
    assert [c.case_id for c in cases.cases] == ["a"]

    visits = journey.ListVisitsResponse(visits=[journey.Visit(visit_id="v", site_id="hcm-01")])
    visits.visits[0].moments.add(moment_id="m1", site_id="hcm-01")
    visits.visits[0].moments.add(moment_id="m2", site_id="hn-01")
    prune(visits, LAN)
    assert [m.moment_id for m in visits.visits[0].moments] == ["m1"]

    everything = notify.ListCasesResponse(cases=[notify.Case(case_id="b", site_id="hn-01")])
    prune(everything, EVERYWHERE)
    assert len(everything.cases) == 1


def test_every_site_a_request_carries_must_be_the_callers() -> None:
    from touchstone.contacts.v1 import contacts_service_pb2 as contacts

    producer = Principal("till-7", frozenset({"producer"}), frozenset({"hcm-01"}))
    batch = contacts.IngestBatchRequest()
    batch.touchpoints.add(event_id="a", site_id="hcm-01")
    assert request_refusal(batch, producer) == ""
    batch.touchpoints.add(event_id="b", site_id="hn-01")
    assert request_refusal(batch, producer) == (
        "site hn-01 is not one of this caller's sites (hcm-01)"
    )
    single = contacts.IngestRequest()
    single.touchpoint.site_id = "hn-01"
    assert request_refusal(single, producer).startswith("site hn-01 is not one")
