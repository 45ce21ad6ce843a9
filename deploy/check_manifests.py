"""make deploy-check: build every kustomize overlay and check it offline; one line per problem.

Checks: yamllint over deploy/; native kinds against the Kubernetes OpenAPI schemas that
kubernetes-validate ships (strict, K8S_VERSION); Strimzi, CloudNativePG, cert-manager, KEDA and
Prometheus Operator kinds against the JSON schemas in deploy/schemas/; house policy for every
container (non-root, read-only root, no capabilities, requests and limits, a pinned tag, secrets by
reference, gRPC probes); the KafkaTopics against touchstone.platform.messaging.topics; the
KafkaUsers (no wildcard writes, each service its own user writing exactly its ServiceSpec's
topics); in production overlays, gRPC over TLS with cert-manager certificates and NetworkPolicies
around every workload
(production_policy.py); the rules, monitors and dashboards of deploy/observability
(observability_policy.py: every metric they query is one the services export); replicas against
partitions; the config copies under deploy/k8s/base/config/ against the files the services ship
(--refresh-config rewrites them).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml
from kubernetes_validate import utils as kv_utils
from manifest_policy import (
    WORKLOADS,
    Doc,
    configmap_problems,
    console_settings_problems,
    is_service,
    job_settings_problems,
    kafka_user_problems,
    name_of,
    scaling_problems,
    service_settings_problems,
    settings_of,
    topic_problems,
    workload_problems,
)
from observability_policy import observability_problems
from production_policy import (
    grpc_tls_problems,
    is_production,
    mail_route_problems,
    network_policy_problems,
)

from touchstone.platform.messaging.topics import ALL_TOPICS

ROOT = Path(__file__).resolve().parent.parent
K8S_VERSION = "1.33"
CONFIG = "deploy/k8s/base/config"
# shipped file or folder (services/...) -> its copy under CONFIG
COPIES = {
    "services/platform/touchstone/shared_kernel/maps": "maps",
    "services/notify/touchstone/notify/messages": "messages",
    "services/journey/touchstone/journey/standards/default.yaml": "standards.yaml",
    "services/platform/touchstone/shared_kernel/calendars/default.yaml": "calendars.yaml",
    "services/loyalty/touchstone/loyalty/churn/default.yaml": "churn.yaml",
    "services/loyalty/touchstone/loyalty/tiers.yaml": "tiers.yaml",
    "services/notify/touchstone/notify/playbooks/default.yaml": "playbooks.yaml",
}

# kubernetes-validate reads its multi-megabyte definitions file on every call: read it once
kv_utils.schema_contents = cache(kv_utils.schema_contents)


def copy_pairs(root: Path) -> Iterator[tuple[Path, Path]]:
    """(shipped file, its copy) for every config file, including either side's extra files."""
    for shipped, copy in COPIES.items():
        src, dst = root / shipped, root / CONFIG / copy
        if not src.is_dir():
            yield src, dst
            continue
        names = {p.name for p in src.glob("*.yaml")} | {p.name for p in dst.glob("*.yaml")}
        yield from ((src / name, dst / name) for name in sorted(names))


COMPOSE_ALERTS = "deploy/compose/alerts.yml"
ALERTS = "deploy/observability/alerts.yaml"


def compose_alerts(root: Path) -> str:
    """The PrometheusRule's groups as a Prometheus rules file, for compose's Prometheus."""
    rule = yaml.safe_load((root / ALERTS).read_text())
    header = (
        f"# Generated from {ALERTS} by `make deploy-config` (deploy-check fails on drift): the\n"
        "# same alerts for compose's Prometheus (profile observability) as a rules file.\n"
    )
    return header + yaml.safe_dump({"groups": rule["spec"]["groups"]}, sort_keys=False, width=100)


def check_copies(root: Path) -> list[str]:
    """A line for every config copy that is missing, stale or left over."""
    problems = []
    alerts = root / COMPOSE_ALERTS
    if not alerts.exists() or alerts.read_text() != compose_alerts(root):
        problems.append(f"{COMPOSE_ALERTS}: differs from {ALERTS}: run make deploy-config")
    for src, dst in copy_pairs(root):
        where, what = dst.relative_to(root), src.relative_to(root)
        if not src.exists():
            problems.append(f"{where}: no shipped {what} any more: run make deploy-config")
        elif not dst.exists():
            problems.append(f"{where}: missing copy of {what}: run make deploy-config")
        elif dst.read_bytes() != src.read_bytes():
            problems.append(f"{where}: differs from {what}: run make deploy-config")
    return problems


def refresh_copies(root: Path) -> None:
    """Make every copy equal to its shipped file (remove copies of files no longer shipped),
    and compose's alert rules equal to the PrometheusRule's."""
    (root / COMPOSE_ALERTS).write_text(compose_alerts(root))
    print(COMPOSE_ALERTS)
    for src, dst in copy_pairs(root):
        if src.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
        else:
            dst.unlink()
        print(f"{dst.relative_to(root)}")


def yamllint(root: Path) -> list[str]:
    """yamllint over deploy/ with the repository's .yamllint.yaml, one line a problem."""
    cmd = [sys.executable, "-m", "yamllint", "-f", "parsable", "-c", str(root / ".yamllint.yaml")]
    out = subprocess.run([*cmd, "deploy"], cwd=root, capture_output=True, text=True, check=False)
    return [f"yamllint: {line}" for line in (out.stdout + out.stderr).splitlines() if line]


def build(overlay: Path) -> list[Doc]:
    """The overlay's resources as kubectl kustomize renders them; RuntimeError if it cannot."""
    out = subprocess.run(
        ["kubectl", "kustomize", str(overlay)], capture_output=True, text=True, check=False
    )
    if out.returncode:
        raise RuntimeError(f"kubectl kustomize failed: {out.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


def schema_problems(doc: Doc, schemas: Path) -> list[str]:
    """Validate against the Kubernetes schema, or the CRD schema kept in deploy/schemas/."""
    group, _, version = str(doc.get("apiVersion", "")).rpartition("/")
    if group and (schemas / group).is_dir():  # a custom resource whose schema is kept here
        path = schemas / group / f"{str(doc.get('kind')).lower()}_{version}.json"
        if not path.exists():
            return [f"no schema {path.relative_to(schemas.parent.parent)} for {doc['apiVersion']}"]
        validator = jsonschema.Draft202012Validator(json.loads(path.read_text()))
        return [f"schema: {_at(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]
    try:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    except kubernetes_validate.ValidationError as e:
        return [f"schema (Kubernetes {K8S_VERSION}): {_at(e.path)}: {e.message}"]
    except kv_utils.SchemaNotFoundError as e:
        return [f"schema: {e.message}"]
    return []


def _at(path: Any) -> str:
    return ".".join(str(p) for p in path) or "(root)"


def config_key_problems(docs: list[Doc], root: Path) -> list[str]:
    """The config ConfigMaps hold exactly the copies (a new shipped file must be listed too)."""
    copies = root / CONFIG
    want = {"touchstone-config": {c for c in COPIES.values() if c.endswith(".yaml")}}
    for folder in ("maps", "messages"):
        want[f"touchstone-{folder}"] = {p.name for p in (copies / folder).glob("*.yaml")}
    problems = []
    for doc in (d for d in docs if d["kind"] == "ConfigMap"):
        keys = want.get(doc["metadata"]["name"].rsplit("-", 1)[0])
        got = set(doc.get("data") or {})
        if keys is not None and got != keys:
            problems += [
                f"{name_of(doc)}: {what} {', '.join(sorted(names))} (the configMapGenerator in "
                "deploy/k8s/base/kustomization.yaml must list exactly the copies)"
                for what, names in (("lacks", keys - got), ("has extra", got - keys))
                if names
            ]
    return problems


def overlay_problems(overlay: Path, root: Path) -> tuple[list[str], int]:
    """Every problem of one overlay, each naming its resource; and how many resources it has."""
    try:
        docs = build(overlay)
    except RuntimeError as e:
        return [str(e)], 0
    problems = []
    for doc in docs:
        found = schema_problems(doc, root / "deploy/schemas")
        if doc.get("kind") in WORKLOADS:
            found += workload_problems(doc)
        if is_service(doc):
            found += service_settings_problems(doc, docs)
        elif doc.get("kind") == "Deployment":
            found += console_settings_problems(doc, docs)
        if doc.get("kind") == "Job":
            found += job_settings_problems(doc, docs)
        if doc.get("kind") == "ConfigMap":
            found += configmap_problems(doc)
        problems += [f"{name_of(doc)}: {p}" for p in found]
    settings = settings_of(docs)
    problems += topic_problems(docs, settings) + scaling_problems(docs, settings)
    problems += kafka_user_problems(docs) + observability_problems(docs)
    if is_production(docs):
        problems += grpc_tls_problems(docs) + network_policy_problems(docs)
        problems += mail_route_problems(docs)
    return problems + config_key_problems(docs, root), len(docs)


def check(root: Path) -> int:
    """Run every check; print one line a problem (or a summary) and return the exit status."""
    problems = check_copies(root) + yamllint(root)
    overlays = sorted(p for p in (root / "deploy/k8s/overlays").iterdir() if p.is_dir())
    counts = []
    for overlay in overlays:
        found, count = overlay_problems(overlay, root)
        problems += [f"{overlay.name}: {p}" for p in found]
        counts.append(f"{overlay.name} {count} resources")
    for line in problems:
        print(line)
    if problems:
        print(f"deploy-check: {len(problems)} problem(s)")
        return 1
    print(
        f"deploy-check OK: {', '.join(counts)}; Kubernetes {K8S_VERSION} and CRD schemas, "
        f"house policy, {len(ALL_TOPICS)} topics, config copies, yamllint"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command line: check (default) or --refresh-config."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root")
    parser.add_argument("--refresh-config", action="store_true", help="rewrite the config copies")
    args = parser.parse_args(argv)
    if args.refresh_config:
        refresh_copies(args.root)
        return 0
    return check(args.root)


if __name__ == "__main__":
    sys.exit(main())
