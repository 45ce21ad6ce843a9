"""The compose deployment, checked without a Docker engine: validated against the Compose
specification's JSON schema (deploy/schemas/compose-spec.json, compose-spec/compose-spec
schema/compose-spec.json at commit 00655e22) and held to the house rules."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import pytest
import yaml

from tests.unit.deploy_images_support import (
    COMPOSE,
    COMPOSE_README,
    COMPOSE_SCHEMA,
    HARDENED,
    PINNED_TAG,
    ROOT,
    VERSION,
    build_args,
)
from touchstone.platform.runtime.settings import (
    DEFAULT_GRPC_PORTS,
    DEFAULT_METRICS_PORTS,
    SERVICES,
)


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def touchstone_services() -> dict[str, Any]:
    services = compose()["services"]
    return {name: services[name] for name in SERVICES}


def ours() -> dict[str, Any]:
    """Services that run an image built from this repository."""
    return {n: s for n, s in compose()["services"].items() if "build" in s}


def test_compose_follows_the_compose_specification() -> None:
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    errors = [
        f"{'/'.join(map(str, e.path))}: {e.message}"
        for e in jsonschema.Draft7Validator(schema).iter_errors(compose())
    ]

    assert errors == []
    assert "version" not in compose()


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_starts_after_init_on_healthy_infrastructure(service: str) -> None:
    spec = touchstone_services()[service]

    assert spec["healthcheck"]["test"] == [
        "CMD",
        "python",
        "-m",
        "touchstone.platform.runtime.health",
        service,
    ]
    assert spec["depends_on"] == {
        "init": {"condition": "service_completed_successfully"},
        "kafka": {"condition": "service_healthy"},
        "postgres": {"condition": "service_healthy"},
    }
    assert spec["image"] == f"touchstone/{service}:{VERSION}"
    assert spec["build"]["dockerfile"] == "deploy/docker/service.Dockerfile"
    assert spec["build"]["args"] == build_args(service)


def test_init_creates_the_topics_and_migrates_once_the_infrastructure_is_healthy() -> None:
    init = compose()["services"]["init"]

    assert init["command"] == [
        "touchstone keys /signing && cp /signing/jwks.json /keys/jwks.json"
        " && touchstone topics && touchstone migrate"
    ]
    assert {d: c["condition"] for d, c in init["depends_on"].items()} == {
        "kafka": "service_healthy",
        "postgres": "service_healthy",
    }
    assert "healthcheck" in compose()["services"]["kafka"]
    assert "pg_isready" in compose()["services"]["postgres"]["healthcheck"]["test"]


def test_our_containers_are_hardened_and_publish_only_to_loopback() -> None:
    for name, spec in ours().items():
        assert {key: spec.get(key) for key in HARDENED} == HARDENED, name
        assert "/tmp" in spec["tmpfs"], name
    for name, spec in compose()["services"].items():
        assert all(str(p).startswith("127.0.0.1:") for p in spec.get("ports", [])), name


def test_the_simulator_and_prometheus_run_only_in_their_profiles() -> None:
    services = compose()["services"]
    profiled = {name: s["profiles"] for name, s in services.items() if "profiles" in s}

    assert profiled == {"simulator": ["demo"], "prometheus": ["observability"]}
    assert services["simulator"]["command"][0] == "simulate"


# Confluent Platform release → the Apache Kafka it ships (Confluent's release notes)
CONFLUENT_PLATFORM_KAFKA = {"8.0": "4.0"}


def test_compose_production_and_the_docker_mode_tests_run_one_kafka() -> None:
    compose_image = compose()["services"]["kafka"]["image"]
    prod_manifests = (ROOT / "deploy" / "k8s" / "overlays" / "prod" / "kafka.yaml").read_text()
    prod = next(d for d in yaml.safe_load_all(prod_manifests) if d and d["kind"] == "Kafka")
    conftest = (ROOT / "tests" / "conftest.py").read_text()
    tests_image = re.search(r'DOCKER_KAFKA_IMAGE = "confluentinc/cp-kafka:([\d.]+)"', conftest)

    assert compose_image.startswith("apache/kafka:")
    assert tests_image, "the docker-mode tests name their Confluent Platform image"
    platform = tests_image.group(1)
    kafka = compose_image.split(":")[1]
    assert prod["spec"]["kafka"]["version"] == kafka
    assert CONFLUENT_PLATFORM_KAFKA[platform.rsplit(".", 1)[0]] == kafka.rsplit(".", 1)[0]


def test_every_image_is_pinned() -> None:
    images = {name: s["image"] for name, s in compose()["services"].items()}

    assert [n for n, image in images.items() if not PINNED_TAG.match(image)] == []
    assert all(images[n].endswith(f":{VERSION}") for n in ours())


def test_prometheus_scrapes_every_service_metrics_port() -> None:
    config = yaml.safe_load((COMPOSE.parent / "prometheus.yml").read_text())
    targets = [
        t for job in config["scrape_configs"] for s in job["static_configs"] for t in s["targets"]
    ]

    assert sorted(targets) == sorted(f"{s}:{DEFAULT_METRICS_PORTS[s]}" for s in SERVICES)


def readme_settings() -> set[str]:
    """Every variable the configuration guide's table names (ranges expanded)."""
    text = (ROOT / "docs" / "configuration.md").read_text()
    table = text.split("\n## ", 1)[0]  # the table, before the page's sections
    names: set[str] = set()
    for row in (line for line in table.splitlines() if line.startswith("| `")):
        cell = row.split("|")[1]
        full = re.findall(r"`(TOUCHSTONE_[A-Z0-9_]+)`", cell)
        names.update(full)
        if "…" in cell:  # `TOUCHSTONE_CONTACTS_GRPC_PORT` … `_NOTIFY_GRPC_PORT`
            first = SERVICES[0].upper()
            names.update(full[0].replace(first, s.upper()) for s in SERVICES)
    return names


def test_every_touchstone_variable_in_compose_is_in_the_readme_configuration_table() -> None:
    named = set(re.findall(r"\bTOUCHSTONE_[A-Z0-9_]+", COMPOSE.read_text()))

    assert named - readme_settings() == set()
    assert "TOUCHSTONE_NOTIFY_METRICS_PORT" in readme_settings()  # the ranges did expand


def test_the_compose_readme_tables_every_variable_compose_sets_or_reads() -> None:
    text = re.sub(r"(^|\s)#.*", "", COMPOSE.read_text())  # comments aside
    interpolated = set(re.findall(r"\$\{([A-Z0-9_]+)", text))
    passed = set(compose()["x-touchstone-env"])
    table = COMPOSE_README.read_text().split("\n## Configuration\n", 1)[1]
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)`", table, flags=re.M))

    assert (interpolated | passed) - documented == set()
    assert documented - (interpolated | passed) == set()
    assert re.findall(r"\$\{[A-Z0-9_]+\}", text) == []  # each has a default: `up` needs no .env
    assert "[configuration table](../../docs/configuration.md)" in COMPOSE_README.read_text()


def test_compose_builds_the_console_from_its_target_and_publishes_it_on_loopback() -> None:
    console = compose()["services"]["console"]
    assert console["build"]["target"] == "console"
    assert console["image"] == f"touchstone/console:{VERSION}"
    assert all(str(port).startswith("127.0.0.1:") for port in console["ports"])
    env = console["environment"]
    assert {env[f"TOUCHSTONE_{s.upper()}_ADDRESS"] for s in SERVICES} == {
        f"{s}:{DEFAULT_GRPC_PORTS[s]}" for s in SERVICES
    }
