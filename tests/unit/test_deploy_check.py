"""make deploy-check: the real manifests pass; deliberately broken copies fail, saying why
(workloads, probes, topics, config copies, transport)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.unit.deploy_check_support import NO_KUBECTL, ROOT, cm, copied_tree, edit, run

pytestmark = NO_KUBECTL


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return copied_tree(tmp_path)


def test_the_real_manifests_pass(capsys: pytest.CaptureFixture[str]) -> None:
    status, lines = run(ROOT, capsys)

    assert status == 0, "\n".join(lines)
    assert lines[-1].startswith("deploy-check OK: dev ")


def test_container_policy_breakages_are_named(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = tree / "deploy/k8s/base"
    edit(
        base / "journey.yaml",
        '            limits:\n              cpu: "1"\n',
        "            limits:\n",
    )
    edit(
        base / "loyalty.yaml",
        "            runAsNonRoot: true\n",
        "            runAsNonRoot: false\n",
    )
    edit(
        base / "contacts.yaml",
        "              valueFrom:\n                secretKeyRef:\n"
        "                  name: touchstone-db-app\n                  key: uri\n",
        "              value: postgresql://touchstone:hunter2@db/touchstone\n",
    )
    edit(base / "kustomization.yaml", "  - name: touchstone/notify\n    newTag: 0.1.0\n", "")

    status, lines = run(tree, capsys)

    assert status == 1
    for overlay in ("dev", "prod"):
        assert f"{overlay}: Deployment/journey: container journey: no cpu limits" in lines
        assert (
            f"{overlay}: Deployment/loyalty: container loyalty: must run as non-root "
            "(runAsNonRoot: true, runAsUser not 0)"
        ) in lines
        assert (
            f"{overlay}: Deployment/contacts: container contacts: env TOUCHSTONE_DATABASE_URL is "
            "a plaintext secret: use valueFrom.secretKeyRef"
        ) in lines
        assert (
            f"{overlay}: Deployment/notify: container notify: image 'touchstone/notify' must have "
            "a pinned tag, not latest"
        ) in lines
    assert lines[-1] == f"deploy-check: {len(lines) - 1} problem(s)"


def test_a_probe_that_is_not_native_grpc_is_named(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(
        tree / "deploy/k8s/base/notify.yaml",
        "            grpc:\n              port: 50054\n            periodSeconds: 10",
        ("            tcpSocket:\n              port: 50054\n            periodSeconds: 10"),
    )

    status, lines = run(tree, capsys)

    assert status == 1
    assert (
        "dev: Deployment/notify: container notify: readinessProbe must be a native grpc: probe"
    ) in lines
    # prod points each gRPC probe at the health port (grpc-tls-patch.yaml): there is none to point
    assert any(line.startswith("prod: kubectl kustomize failed") for line in lines), lines


def test_topic_breakages_are_named(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prod = tree / "deploy/k8s/overlays/prod"
    topics = prod / "topics.yaml"
    edit(topics, "  partitions: 12\n", '  partitions: "12"\n')  # the first: touchpoints.v1
    edit(
        topics,
        "  topicName: journey.dlq.v1\n  partitions: 12\n  replicas: 3\n  config:\n"
        "    retention.ms: 2592000000\n",
        "  topicName: journey.dlq.v1\n  partitions: 12\n"
        "  replicas: 3\n  config:\n    retention.ms: -1\n",
    )
    edit(
        topics,
        "  topicName: loyalty.values.v1\n  partitions: 12\n  replicas: 3\n",
        "  topicName: loyalty.values.v1\n  partitions: 12\n  replica: 3\n",
    )
    edit(
        topics,
        "  topicName: notify.cases.v1\n  partitions: 12\n  replicas: 3\n  config:\n"
        "    retention.ms: -1\n    max.message.bytes: 1048576\n",
        "  topicName: notify.cases.v1\n  partitions: 12\n  replicas: 3\n  config:\n"
        "    retention.ms: -1\n    max.message.bytes: 2097152\n",
    )  # larger than what Touchstone's producers send: the settings and the broker disagree
    text = topics.read_text()
    last = text.rindex("---\n")
    assert "topicName: touchstone.audit.v1" in text[last:]
    topics.write_text(text[:last])
    edit(
        prod / "scaling.yaml",
        "    name: journey\n  minReplicaCount: 2\n  maxReplicaCount: 12\n",
        "    name: journey\n  minReplicaCount: 2\n  maxReplicaCount: 16\n",
    )

    status, lines = run(tree, capsys)

    assert status == 1
    assert (
        "prod: KafkaTopic/touchpoints-v1: schema: spec.partitions: '12' is not of type 'integer'"
    ) in lines
    assert (
        "prod: KafkaTopic/loyalty-values-v1: schema: spec: Additional properties are not allowed "
        "('replica' was unexpected)"
    ) in lines
    assert (
        "prod: KafkaTopic/journey-dlq-v1: retention.ms is -1, topic_config(journey.dlq.v1) says "
        "2592000000"
    ) in lines
    assert (
        "prod: KafkaTopic/notify-cases-v1: max.message.bytes is 2097152, "
        "topic_config(notify.cases.v1) says 1048576"
    ) in lines
    assert "prod: KafkaTopic for touchstone.audit.v1 is missing" in lines
    assert ("prod: ScaledObject/journey: 16 replicas > TOUCHSTONE_TOPIC_PARTITIONS=12") in lines
    assert not [line for line in lines if line.startswith("dev: ")]


def test_a_drifted_config_copy_fails_until_refreshed_and_listed(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tiers = tree / "services/loyalty/touchstone/loyalty/tiers.yaml"
    tiers.write_text(tiers.read_text() + "# changed\n")
    shutil.copy(
        tree / "services/platform/touchstone/shared_kernel/maps/phone.yaml",
        tree / "services/platform/touchstone/shared_kernel/maps/kiosk.yaml",
    )

    status, lines = run(tree, capsys)

    assert status == 1
    assert lines[:2] == [
        "deploy/k8s/base/config/maps/kiosk.yaml: missing copy of "
        "services/platform/touchstone/shared_kernel/maps/kiosk.yaml: run make deploy-config",
        "deploy/k8s/base/config/tiers.yaml: differs from "
        "services/loyalty/touchstone/loyalty/tiers.yaml: run make deploy-config",
    ]

    cm.refresh_copies(tree)
    capsys.readouterr()
    status, lines = run(tree, capsys)

    assert status == 1
    assert [line.split(": ", 2)[2] for line in lines[:-1]] == [
        "lacks kiosk.yaml (the configMapGenerator in deploy/k8s/base/kustomization.yaml must "
        "list exactly the copies)"
    ] * 2

    edit(
        tree / "deploy/k8s/base/kustomization.yaml",
        "      - config/maps/phone.yaml\n",
        "      - config/maps/kiosk.yaml\n      - config/maps/phone.yaml\n",
    )
    status, lines = run(tree, capsys)

    assert status == 0, "\n".join(lines)


def test_an_overlay_that_does_not_build_is_named(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(
        tree / "deploy/k8s/overlays/dev/kustomization.yaml",
        "  - namespace.yaml\n",
        "  - namespace.yaml\n  - missing.yaml\n",
    )

    status, lines = run(tree, capsys)

    assert status == 1
    assert next(line for line in lines if line.startswith("dev: ")).startswith(
        "dev: kubectl kustomize failed: "
    )


def test_data_in_clear_or_a_missing_ca_is_named(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prod, dev = tree / "deploy/k8s/overlays/prod", tree / "deploy/k8s/overlays/dev"
    edit(
        prod / "kustomization.yaml",
        "      - TOUCHSTONE_DATABASE_TLS_CA=/etc/touchstone/db-ca/ca.crt\n",
        "",
    )
    edit(
        prod / "encrypted.yaml",
        "    name: kafka-ca\n    mountPath: /etc/touchstone/kafka-ca\n",
        "    name: kafka-ca\n    mountPath: /etc/kafka-ca-elsewhere\n",
    )
    edit(dev / "kustomization.yaml", "      - TOUCHSTONE_KAFKA_PLAINTEXT=1\n", "")

    status, lines = run(tree, capsys)

    assert status == 1
    for service in ("contacts", "journey", "loyalty", "notify"):
        label = f"Deployment/{service}: container {service}"
        assert (
            f"prod: {label}: settings refused at start: PostgreSQL beyond this machine would be "
            "plaintext: set TOUCHSTONE_DATABASE_TLS_CA (or sslmode=verify-full in "
            "TOUCHSTONE_DATABASE_URL), or TOUCHSTONE_DATABASE_PLAINTEXT=1 where the network "
            "encrypts it another way"
        ) in lines
        assert (
            f"prod: {label}: TOUCHSTONE_KAFKA_TLS_CA=/etc/touchstone/kafka-ca/ca.crt is not on a "
            "mounted volume"
        ) in lines
        assert any(
            line.startswith(
                f"dev: {label}: settings refused at start: Kafka at kafka:9092 would be"
            )
            for line in lines
        )
    assert any(  # the init Job connects too
        line.startswith(
            "prod: Job/touchstone-init: container migrate: settings refused at start: PostgreSQL"
        )
        for line in lines
    )
    # 4 services x 3, prod's init Job (Postgres), dev's init Job (Kafka: topics and migrate)
    assert lines[-1] == "deploy-check: 15 problem(s)", lines


def test_a_wildcard_writer_or_a_service_writing_another_services_topics_fails(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prod = tree / "deploy/k8s/overlays/prod"
    edit(  # the producer may write any topic
        prod / "users.yaml",
        "          name: touchpoints.v1\n          patternType: literal\n"
        "        operations: [Write, Describe]\n",
        '          name: "*"\n          patternType: literal\n'
        "        operations: [Write, Describe]\n",
    )
    edit(  # journey may forge contacts' profile events
        prod / "users.yaml",
        "          name: journey.dlq.v1\n",
        "          name: contacts.profiles.v1\n",
    )
    edit(  # loyalty connects as notify
        prod / "kustomization.yaml",
        "          value: touchstone-loyalty\n",
        "          value: touchstone-notify\n",
    )

    status, lines = run(tree, capsys)

    assert status == 1
    assert (
        "prod: KafkaUser/touchstone-producer: writes '*' (literal): name every topic it writes"
    ) in lines
    assert any(
        line.startswith("prod: Deployment/journey: KafkaUser touchstone-journey writes [")
        and "'contacts.profiles.v1'" in line
        for line in lines
    ), lines
    assert (
        "prod: Deployment/loyalty: its Kafka password must come from secret touchstone-notify "
        "(the user's own)"
    ) in lines


def test_plaintext_grpc_in_production_fails(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prod = tree / "deploy/k8s/overlays/prod"
    edit(prod / "kustomization.yaml", "TOUCHSTONE_GRPC_PLAINTEXT=0", "TOUCHSTONE_GRPC_PLAINTEXT=1")
    edit(  # journey's certificate no longer names it
        prod / "grpc-tls.yaml",
        "    - journey\n    - journey.touchstone\n",
        "    - journey.touchstone\n",
    )
    edit(  # loyalty serves a certificate from a secret no Certificate issues
        prod / "kustomization.yaml", "secretName: loyalty-grpc-tls", "secretName: loyalty-own-tls"
    )

    status, lines = run(tree, capsys)

    assert status == 1
    for service in ("contacts", "journey", "loyalty", "notify"):
        assert (
            f"prod: Deployment/{service}: TOUCHSTONE_GRPC_PLAINTEXT is on: production gRPC must "
            "be TLS (grpc-tls.yaml)"
        ) in lines
    assert (
        "prod: Deployment/journey: Certificate/journey-grpc does not name 'journey' in its "
        "dnsNames" in lines
    )
    assert (
        "prod: Deployment/loyalty: TOUCHSTONE_GRPC_TLS_CERT=/etc/touchstone/grpc-tls/tls.crt is "
        "not from a Secret a cert-manager Certificate of this overlay issues"
    ) in lines
    assert (
        "prod: Deployment/loyalty: TOUCHSTONE_GRPC_TLS_KEY=/etc/touchstone/grpc-tls/tls.key is "
        "not from a Secret a cert-manager Certificate of this overlay issues"
    ) in lines
    assert (  # the console would call them in plaintext, its users' tokens with it
        "prod: Deployment/console: TOUCHSTONE_GRPC_PLAINTEXT is on: it would send tokens in the "
        "clear"
    ) in lines
    assert lines[-1] == "deploy-check: 8 problem(s)", lines
