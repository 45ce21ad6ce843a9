"""make deploy-check holds production overlays to their rules: TLS, network policies, egress,
monitoring, the console and scaling; broken copies fail, saying why."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.deploy_check_support import NO_KUBECTL, cm, copied_tree, edit, run

pytestmark = NO_KUBECTL


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return copied_tree(tmp_path)


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
