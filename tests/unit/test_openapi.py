"""docs/openapi.json: generated from protos/ (never hand-edited), a valid OpenAPI 3.1 document,
and naming every method the HTTP gateway serves with the messages the gateway takes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from touchstone.contacts.v1 import contacts_service_pb2
from touchstone.journey.v1 import journey_service_pb2
from touchstone.loyalty.v1 import loyalty_service_pb2
from touchstone.notify.v1 import notify_service_pb2
from touchstone.platform.serving.http_gateway import routes
from touchstone.tools.dev.openapi import SERVICE_NAMES, rendered

SERVICE_MODULES = (
    contacts_service_pb2,
    journey_service_pb2,
    loyalty_service_pb2,
    notify_service_pb2,
)

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "docs" / "openapi.json"
PROTOS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "protos").rglob("*.proto"))


def committed() -> dict[str, object]:
    return json.loads(DOCUMENT.read_text())


def test_the_document_is_what_the_protos_generate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # protoc names files relative to the include folder, as make does
    fresh = rendered(PROTOS, Path("protos"))
    assert fresh == DOCUMENT.read_text(), "run `make generate` and commit docs/openapi.json"


def test_the_document_is_valid_openapi() -> None:
    validate(committed())  # raises, naming the place, if not


def test_every_method_the_gateway_serves_is_in_the_document() -> None:
    names = [
        module.DESCRIPTOR.services_by_name[service].full_name
        for module, service in zip(SERVICE_MODULES, SERVICE_NAMES.values(), strict=True)
    ]
    served = {path: route for path, route in routes(names).items() if not route.client_streams}
    paths = committed()["paths"]
    assert isinstance(paths, dict)
    assert set(paths) == set(served)
    for path, route in served.items():
        body = paths[path]["post"]["requestBody"]["content"]
        (schema,) = (media["schema"]["$ref"] for media in body.values())
        assert schema.endswith(route.request_type.DESCRIPTOR.full_name)
