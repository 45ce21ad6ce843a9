"""make deploy-check: the real manifests pass; deliberately broken copies fail, saying why."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    shutil.which("kubectl") is None, reason="kubectl is not on PATH: cannot build the overlays"
)


def _checker() -> ModuleType:
    sys.path.insert(0, str(ROOT / "deploy"))  # as when run as a script: its policy module
    spec = importlib.util.spec_from_file_location(
        "check_manifests", ROOT / "deploy/check_manifests.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["check_manifests"] = module
    spec.loader.exec_module(module)
    return module


cm = _checker()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of deploy/, .yamllint.yaml and the shipped config files to break."""
    shutil.copytree(
        ROOT / "deploy", tmp_path / "deploy", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / ".yamllint.yaml", tmp_path)
    for shipped in cm.COPIES:
        src, dst = ROOT / shipped, tmp_path / shipped
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, dst)
    return tmp_path


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    """Replace old by new in the file; old must be there."""
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count))


def run(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    status = cm.check(root)
    return status, capsys.readouterr().out.splitlines()


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


def test_a_production_overlay_without_its_tls_patch_or_a_network_policy_fails(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prod = tree / "deploy/k8s/overlays/prod"
    edit(  # no TLS patch: every service plaintext, probing the TLS port
        prod / "kustomization.yaml",
        "  - path: grpc-tls-patch.yaml\n    target:\n      kind: Deployment\n"
        "      labelSelector: app.kubernetes.io/component=service\n",
        "",
    )
    policies = (prod / "network-policies.yaml").read_text().split("\n---\n")
    kept = [p for p in policies if "name: touchstone-deny-all" not in p]  # nothing shut
    kept = [
        p.replace(
            "    - from:\n        - namespaceSelector:\n            matchLabels:\n"
            "              kubernetes.io/metadata.name: monitoring\n"
            "          podSelector:\n            matchLabels:\n"
            "              app.kubernetes.io/name: prometheus\n      ports:",
            "    - ports:",
        )
        for p in kept
    ]  # /metrics open to any pod
    (prod / "network-policies.yaml").write_text("\n---\n".join(kept))

    status, lines = run(tree, capsys)

    assert status == 1
    assert (
        "prod: Deployment/notify: gRPC in plaintext: TOUCHSTONE_GRPC_TLS_CERT and "
        "TOUCHSTONE_GRPC_TLS_KEY must be set"
    ) in lines
    assert any(
        line.startswith("prod: Deployment/notify: probes ask ports ['50054']") for line in lines
    ), lines
    assert (
        "prod: NetworkPolicy/metrics-from-prometheus: ingress rule 1 admits every pod to metrics: "
        "name its peers"
    ) in lines
    for workload in ("Deployment/contacts", "Job/touchstone-init"):
        assert (
            f"prod: {workload}: no NetworkPolicy shuts it (policyTypes Ingress and Egress, "
            "no rules)"
        ) in lines


def test_an_overlay_is_held_to_production_rules_unless_it_says_it_is_for_development(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(
        tree / "deploy/k8s/overlays/dev/namespace.yaml",
        "touchstone.io/environment: development",
        "touchstone.io/environment: staging",
    )

    status, lines = run(tree, capsys)

    assert status == 1
    assert (
        "dev: Deployment/journey: TOUCHSTONE_GRPC_PLAINTEXT is on: production gRPC must be TLS "
        "(grpc-tls.yaml)"
    ) in lines
    assert (
        "dev: Deployment/journey: no NetworkPolicy lets it out: it cannot reach Kafka, Postgres "
        "or DNS"
    ) in lines


def test_policies_that_open_to_everyone_or_hide_plaintext_are_named(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prod = tree / "deploy/k8s/overlays/prod"
    edit(  # notify may reach anything, anywhere
        prod / "network-policies.yaml",
        "  egress:\n    # beyond the cluster network only",
        "  egress:\n    - {}\n    # beyond the cluster network only",
    )
    edit(  # every pod of every namespace may call the services
        prod / "network-policies.yaml",
        "    - from:\n        - podSelector:\n            matchLabels:\n"
        '              touchstone.io/grpc-client: "true"\n',
        "    - from:\n        - namespaceSelector: {}\n",
    )
    edit(  # plaintext gRPC for journey, from a ConfigMap key rather than the settings
        prod / "kustomization.yaml",
        "  - target:\n      kind: Deployment\n      name: journey\n    patch: |-\n",
        "  - target:\n      kind: Deployment\n      name: journey\n    patch: |-\n"
        "      - op: add\n        path: /spec/template/spec/containers/0/env/-\n"
        "        value:\n          name: TOUCHSTONE_GRPC_PLAINTEXT\n          valueFrom:\n"
        "            configMapKeyRef:\n              name: touchstone-settings\n"
        "              key: TOUCHSTONE_EMBEDDED\n",
    )
    edit(prod / "kustomization.yaml", "      - TOUCHSTONE_REBALANCE_TIMEOUT_S=30\n",
         "      - TOUCHSTONE_REBALANCE_TIMEOUT_S=30\n      - TOUCHSTONE_EMBEDDED=1\n")  # fmt: skip

    status, lines = run(tree, capsys)

    assert status == 1
    assert (
        "prod: NetworkPolicy/notify-to-mail-and-webhooks: egress rule 1 lets it reach everything "
        "on every port: name where"
    ) in lines
    assert (
        "prod: NetworkPolicy/grpc-from-clients: ingress rule 1 admits every pod to grpc, http: "
        "name its peers"
    ) in lines
    assert (
        "prod: Deployment/journey: TOUCHSTONE_GRPC_PLAINTEXT is on: production gRPC must be TLS "
        "(grpc-tls.yaml)"
    ) in lines
    assert not any("Deployment/contacts: TOUCHSTONE_GRPC_PLAINTEXT" in line for line in lines)


def test_a_pod_label_admitted_from_any_namespace_is_named(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(  # the clients' namespaces no longer named: any pod anywhere may wear the label
        tree / "deploy/k8s/overlays/prod/network-policies.yaml",
        "        - namespaceSelector:\n            matchLabels:\n"
        '              touchstone.io/grpc-clients: "true"\n',
        "        - namespaceSelector: {}\n",
    )

    status, lines = run(tree, capsys)

    assert status == 1
    assert [line for line in lines if line.startswith("prod: ")] == [
        "prod: NetworkPolicy/grpc-from-clients: ingress rule 1 admits a pod label from any "
        "namespace to grpc, http: anyone who may run a pod somewhere can give it the label; name "
        "the namespaces"
    ]


def test_a_mail_host_in_the_cluster_that_notifys_egress_cannot_reach_is_named(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(  # the base's in-cluster relay name, which prod's egress (beyond the cluster) misses
        tree / "deploy/k8s/overlays/prod/kustomization.yaml",
        "      - TOUCHSTONE_SMTP_HOST=smtp.example.com\n",
        "      - TOUCHSTONE_SMTP_HOST=mail-relay.mail.svc\n",
    )

    status, lines = run(tree, capsys)

    assert status == 1
    assert [line for line in lines if line.startswith("prod: ")] == [
        "prod: Deployment/notify: TOUCHSTONE_SMTP_HOST=mail-relay.mail.svc is a name in the "
        "cluster, but no NetworkPolicy lets notify reach a pod on port 587: name your mail "
        "provider's host, or let notify reach your relay"
    ]


def test_an_alert_or_a_panel_on_a_metric_no_service_exports_is_named(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    observability = tree / "deploy/observability"
    edit(
        observability / "alerts.yaml",
        "sum(touchstone_notify_overdue_steps)",
        "sum(touchstone_notify_overdue)",
    )
    edit(
        observability / "dashboards/touchstone.json",
        "touchstone_consumer_lag_records",
        "touchstone_lag",
    )

    status, lines = run(tree, capsys)

    assert status == 1
    assert (
        "prod: PrometheusRule/touchstone-alerts: queries touchstone_notify_overdue, which no "
        "service exports (touchstone.platform.runtime.metrics)"
    ) in lines
    assert (
        "prod: ConfigMap/touchstone-dashboard: queries touchstone_lag, which no service exports "
        "(touchstone.platform.runtime.metrics)"
    ) in lines


def test_a_pod_monitor_on_a_port_the_pods_do_not_name_is_named(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(tree / "deploy/observability/pod-monitor.yaml", "- port: metrics", "- port: metric")

    status, lines = run(tree, capsys)

    assert status == 1
    assert any(
        line.startswith(
            "prod: PodMonitor/touchstone-services: scrapes port 'metric', which a "
            "selected pod does not name"
        )
        for line in lines
    ), lines


def test_a_console_that_would_leak_tokens_or_not_start_is_named(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prod = tree / "deploy/k8s/overlays/prod"
    edit(
        prod / "kustomization.yaml",
        "TOUCHSTONE_CONSOLE_URL=https://",
        "TOUCHSTONE_CONSOLE_URL=http://",
    )
    edit(
        prod / "kustomization.yaml",
        "TOUCHSTONE_CONSOLE_PLAINTEXT=0",
        "TOUCHSTONE_CONSOLE_PLAINTEXT=1",
    )
    edit(
        tree / "deploy/k8s/base/kustomization.yaml",
        "      - TOUCHSTONE_NOTIFY_ADDRESS=notify:50054\n",
        "",
    )
    edit(prod / "console.yaml", "          port: http\n", "          port: metrics\n")

    status, lines = run(tree, capsys)

    assert status == 1
    console = [line for line in lines if "Deployment/console" in line]
    assert (
        "dev: Deployment/console: container console: TOUCHSTONE_NOTIFY_ADDRESS is not set"
        in console
    )
    assert (
        "prod: Deployment/console: TOUCHSTONE_CONSOLE_URL must be its https:// address: its "
        "cookie is a bearer token"
    ) in console
    assert (
        "prod: Deployment/console: no NetworkPolicy lets browsers (the ingress controller) reach "
        "its http port"
    ) in console


def test_compose_alerts_that_drift_from_the_shipped_rule_are_named(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(
        tree / "deploy/observability/alerts.yaml",
        "(touchstone_consumer_lag_records) > 10000",
        "(touchstone_consumer_lag_records) > 20000",
    )

    status, lines = run(tree, capsys)

    assert status == 1
    assert lines[0] == (
        "deploy/compose/alerts.yml: differs from deploy/observability/alerts.yaml: run make "
        "deploy-config"
    )
    cm.refresh_copies(tree)
    assert "> 20000" in (tree / "deploy/compose/alerts.yml").read_text()


def test_lag_scaling_with_keda_s_own_ceiling_is_named(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(  # no maxReplicaCount: KEDA's default, 100, is more workers than partitions
        tree / "deploy/k8s/overlays/prod/scaling.yaml",
        "    name: loyalty\n  minReplicaCount: 2\n  maxReplicaCount: 12\n",
        "    name: loyalty\n  minReplicaCount: 2\n",
    )

    status, lines = run(tree, capsys)

    assert status == 1
    assert "prod: ScaledObject/loyalty: 100 replicas > TOUCHSTONE_TOPIC_PARTITIONS=12" in lines
