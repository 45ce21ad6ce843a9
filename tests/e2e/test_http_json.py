"""The four services' APIs over HTTP/JSON (the Connect protocol) on the real servers: curl posts
touchpoints and reads their verdicts back; validation, per-event results, roles, site scope,
limits and audit are the gRPC server's own, because the gateway calls it."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import struct
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from google.protobuf import json_format
from jsonschema import Draft202012Validator

from tests.conftest import running_stack
from tests.e2e.test_whole_journey import eventually, supermarket_visit
from touchstone.contacts.v1.touchpoint_pb2 import CustomerRef
from touchstone.platform.runtime.settings import Settings
from touchstone.tools.dev.stack import LocalStack
from touchstone.tools.ops.client import token_for
from touchstone.tools.ops.dev_keys import mint

pytestmark = pytest.mark.e2e

INGEST_BATCH = "/touchstone.contacts.v1.ContactsService/IngestBatch"
LIST_MOMENTS = "/touchstone.journey.v1.JourneyService/ListMoments"
WATCH_MOMENTS = "/touchstone.journey.v1.JourneyService/WatchMoments"
ERASE = "/touchstone.contacts.v1.ContactsService/EraseCustomer"
OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


@pytest.fixture(scope="module")
def stack(infra: Settings) -> Iterator[LocalStack]:
    with running_stack(infra) as local:
        yield local


def curl(settings: Settings, service: str, path: str, body: object, token: str = "") -> Any:
    """POST body as JSON with curl; the HTTP status and the parsed reply."""
    assert shutil.which("curl"), "these tests post with curl: install it (apt-get install curl)"
    command = [
        "curl", "--silent", "--show-error", "--max-time", "20",
        "--write-out", "\n%{http_code}",
        "-H", "Content-Type: application/json",
        "--data-binary", json.dumps(body),
        settings.http_url(service) + path,
    ]  # fmt: skip
    if token:
        command[1:1] = ["-H", f"Authorization: Bearer {token}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=True)
    reply, _, status = done.stdout.rpartition("\n")
    return int(status), json.loads(reply) if reply else None


def assert_described(message: object, schema: str) -> None:
    """The message is as docs/openapi.json describes the named schema."""
    components = json.loads(OPENAPI.read_text())["components"]
    root = {"$ref": f"#/components/schemas/{schema}", "components": components}
    Draft202012Validator(root).validate(message)


def signed(settings: Settings, roles: list[str], sites: list[str], subject: str) -> str:
    assert settings.auth_signing_key is not None
    return mint(
        settings.auth_signing_key,
        subject=subject,
        roles=roles,
        sites=sites,
        issuer=settings.auth_issuer,
        audience=settings.auth_audience,
    )


def test_a_visit_posted_with_curl_is_scored_and_read_back_over_http(stack: LocalStack) -> None:
    settings = stack.settings
    admin = token_for(settings, "admin")
    customer_id = f"http-{uuid.uuid4()}"
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    visit = supermarket_visit(CustomerRef(customer_id=customer_id), an_hour_ago)
    body = {"touchpoints": [json_format.MessageToDict(tp) for tp in visit]}

    status, reply = curl(settings, "contacts", INGEST_BATCH, body, admin)

    assert status == 200, reply
    assert_described(reply, "touchstone.contacts.v1.IngestBatchResponse")
    assert_described(body, "touchstone.contacts.v1.IngestBatchRequest")
    assert reply["accepted"] == 6
    assert {r["status"] for r in reply["results"]} == {"INGEST_STATUS_ACCEPTED"}

    def moments() -> list[dict[str, Any]] | None:
        status, found = curl(settings, "journey", LIST_MOMENTS, {"customerId": customer_id}, admin)
        assert status == 200, found
        listed = found.get("moments", [])
        return listed if len(listed) >= 6 else None

    found = eventually(moments, "six moments over HTTP")
    assert_described({"moments": found}, "touchstone.journey.v1.ListMomentsResponse")
    greeting = {m["stage"]: m for m in found}["enter_store"]
    assert greeting["verdict"] == "VERDICT_LOSE"
    assert "greeted within 30 s: 45 (<= 30)" in greeting["reason"]


def test_each_touchpoint_of_a_batch_gets_its_own_result(stack: LocalStack) -> None:
    settings = stack.settings
    good = supermarket_visit(CustomerRef(customer_id=f"http-{uuid.uuid4()}"), datetime.now(UTC))[0]
    bad = json_format.MessageToDict(good)
    bad["eventId"] = str(uuid.uuid4())
    del bad["stage"]
    body = {"touchpoints": [json_format.MessageToDict(good), bad]}

    status, reply = curl(settings, "contacts", INGEST_BATCH, body, token_for(settings, "admin"))

    assert status == 200
    assert (reply["accepted"], reply["rejected"]) == (1, 1)
    rejected = reply["results"][1]
    assert rejected["status"] == "INGEST_STATUS_REJECTED"
    assert {"field": "stage", "description": "is required"} in rejected["violations"]


def test_a_misspelt_field_is_a_400_naming_it(stack: LocalStack) -> None:
    settings = stack.settings
    body = {"touchpoints": [{"eventID": "x"}]}

    status, reply = curl(settings, "contacts", INGEST_BATCH, body, token_for(settings, "admin"))

    assert status == 400
    assert reply["code"] == "invalid_argument"
    assert 'no field named "eventID"' in reply["message"]


def test_a_bad_request_carries_its_field_violations(stack: LocalStack) -> None:
    settings = stack.settings
    path = "/touchstone.journey.v1.JourneyService/ListMoments"
    body = {"pageSize": -1}

    status, reply = curl(settings, "journey", path, body, token_for(settings, "admin"))

    assert status == 400
    assert reply["code"] == "invalid_argument"
    (detail,) = reply["details"]
    assert detail["type"] == "google.rpc.BadRequest"
    assert detail["debug"]["fieldViolations"] == [
        {"field": "page_size", "description": "must not be negative"}
    ]


def test_without_a_token_the_call_is_401_and_with_the_wrong_role_403(stack: LocalStack) -> None:
    settings = stack.settings
    status, reply = curl(settings, "contacts", ERASE, {"customerId": "c-1"})
    assert (status, reply["code"]) == (401, "unauthenticated")
    assert "no bearer token" in reply["message"]

    manager = signed(settings, ["manager"], ["*"], "http-manager")
    status, reply = curl(settings, "contacts", ERASE, {"customerId": "c-1"}, manager)
    assert (status, reply["code"]) == (403, "permission_denied")
    assert "needs one of the roles admin" in reply["message"]


def test_a_producer_may_post_only_its_own_sites_touchpoints(stack: LocalStack) -> None:
    settings = stack.settings
    till = signed(settings, ["producer"], ["hcm-01"], "till-hcm-01")
    customer = CustomerRef(customer_id=f"http-{uuid.uuid4()}")
    theirs = supermarket_visit(customer, datetime.now(UTC), site_id="hn-01")[0]

    status, reply = curl(
        settings,
        "contacts",
        INGEST_BATCH,
        {"touchpoints": [json_format.MessageToDict(theirs)]},
        till,
    )

    assert (status, reply["code"]) == (403, "permission_denied")
    assert reply["message"] == "site hn-01 is not one of this caller's sites (hcm-01)"


def test_http_commands_are_audited_with_the_http_callers_address(stack: LocalStack) -> None:
    settings = stack.settings
    subject = f"http-auditee-{uuid.uuid4().hex[:8]}"
    manager = signed(settings, ["manager"], ["*"], subject)
    assert curl(settings, "contacts", ERASE, {"customerId": "c-audit"}, manager)[0] == 403

    def lines() -> list[str]:
        result = subprocess.run(
            [sys.executable, "-m", "touchstone.tools.cli", "audit", "--subject", subject],
            env={**os.environ, **settings.as_env()},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.splitlines()

    (denied,) = eventually(lines, "the refusal on the audit trail")
    assert "contacts /touchstone.contacts.v1.ContactsService/EraseCustomer" in denied
    assert f"by {subject} [manager] from ipv4:127.0.0.1:" in denied  # not the gateway's socket


def test_an_unknown_method_and_a_client_stream_are_refused_plainly(stack: LocalStack) -> None:
    settings = stack.settings
    admin = token_for(settings, "admin")
    status, reply = curl(settings, "contacts", "/touchstone.contacts.v1.ContactsService/Nope", {})
    assert (status, reply["code"]) == (404, "unimplemented")

    stream = "/touchstone.contacts.v1.ContactsService/IngestStream"
    status, reply = curl(settings, "contacts", stream, {}, admin)
    assert (status, reply["code"]) == (501, "unimplemented")
    assert "IngestBatch" in reply["message"]


def test_a_server_stream_arrives_as_connect_envelopes(stack: LocalStack) -> None:
    settings = stack.settings
    admin = token_for(settings, "admin")
    customer_id = f"http-watch-{uuid.uuid4()}"
    request = json.dumps({"customerId": customer_id, "stage": "enter_store"}).encode()
    url = urlsplit(settings.http_url("journey"))
    watch = http.client.HTTPConnection(url.hostname or "", url.port, timeout=30)
    watch.request(
        "POST",
        WATCH_MOMENTS,
        body=struct.pack(">BI", 0, len(request)) + request,
        headers={
            "Content-Type": "application/connect+json",
            "Authorization": f"Bearer {admin}",
            "Connect-Timeout-Ms": "25000",
        },
    )
    stream = watch.getresponse()  # the headers come at once, the messages as moments are scored
    assert (stream.status, stream.getheader("Content-Type")) == (200, "application/connect+json")
    assert next_envelope(stream) == (0, {})  # the stream is live: what is scored now comes

    visit = supermarket_visit(CustomerRef(customer_id=customer_id), datetime.now(UTC))
    body = {"touchpoints": [json_format.MessageToDict(tp) for tp in visit]}
    assert curl(settings, "contacts", INGEST_BATCH, body, admin)[0] == 200

    flags, reply = next_envelope(stream)
    watch.close()
    assert flags == 0  # a message, not the end of the stream
    assert reply["moment"]["customerId"] == customer_id
    assert reply["moment"]["verdict"] == "VERDICT_LOSE"


def next_envelope(stream: http.client.HTTPResponse) -> tuple[int, Any]:
    """The flags and message of a stream's next Connect envelope."""
    flags, length = struct.unpack(">BI", stream.read(5))
    return flags, json.loads(stream.read(length))
