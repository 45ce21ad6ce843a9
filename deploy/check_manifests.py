"""make deploy-check: build every kustomize overlay and check it offline; one line per problem.

Checks: yamllint over deploy/; native kinds against the Kubernetes OpenAPI schemas that
kubernetes-validate ships (strict, K8S_VERSION); Strimzi and CloudNativePG kinds against the JSON
schemas in deploy/schemas/; house policy for every container (non-root, read-only root, no
capabilities, requests and limits, a pinned tag, secrets by reference, gRPC probes); the
KafkaTopics against touchstone.common.topics; replicas against partitions; the config copies under
deploy/k8s/base/config/ against the files the services ship (--refresh-config rewrites them).
"""

from __future__ import annotations

import argparse
import json
import re
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

from touchstone.common.topics import ALL_TOPICS, topic_config

ROOT = Path(__file__).resolve().parent.parent
K8S_VERSION = "1.33"
CONFIG = "deploy/k8s/base/config"
# shipped file or folder (services/...) -> its copy under CONFIG
COPIES = {
    "services/touchstone/common/maps": "maps",
    "services/notify/messages": "messages",
    "services/journey/standards/default.yaml": "standards.yaml",
    "services/touchstone/common/calendars/default.yaml": "calendars.yaml",
    "services/loyalty/churn/default.yaml": "churn.yaml",
    "services/loyalty/tiers.yaml": "tiers.yaml",
    "services/notify/playbooks/default.yaml": "playbooks.yaml",
}
WORKLOADS = {"Deployment", "Job"}
SERVICE_SETTINGS = {
    "TOUCHSTONE_GRPC_HOST": "0.0.0.0",
    "TOUCHSTONE_EMBEDDED": "0",
    "TOUCHSTONE_STATE_DIR": None,
    "TOUCHSTONE_KAFKA_BOOTSTRAP": None,
    "TOUCHSTONE_DATABASE_URL": None,
    "TOUCHSTONE_TOPIC_PARTITIONS": None,
    "TOUCHSTONE_LOG_LEVEL": None,
    "TOUCHSTONE_REBALANCE_TIMEOUT_S": None,
}
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|DATABASE_URL|PRIVATE_KEY|API_KEY", re.I)
URL_CREDENTIALS = re.compile(r"://[^/@\s:]+:[^/@\s]+@")
DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")

Doc = dict[str, Any]

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


def check_copies(root: Path) -> list[str]:
    """A line for every config copy that is missing, stale or left over."""
    problems = []
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
    """Make every copy equal to its shipped file (remove copies of files no longer shipped)."""
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


def name_of(doc: Doc) -> str:
    """Kind/name, as problems name a resource."""
    return f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"


def schema_problems(doc: Doc, schemas: Path) -> list[str]:
    """Validate against the Kubernetes schema, or the CRD schema kept in deploy/schemas/."""
    group, _, version = str(doc.get("apiVersion", "")).rpartition("/")
    if group.endswith((".strimzi.io", ".cnpg.io")):
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


def pod_spec(doc: Doc) -> Doc:
    """The pod template's spec of a Deployment or Job."""
    return doc.get("spec", {}).get("template", {}).get("spec", {})


def containers(doc: Doc) -> list[Doc]:
    """Init containers and containers of a workload."""
    spec = pod_spec(doc)
    return [*spec.get("initContainers", []), *spec.get("containers", [])]


def container_problems(doc: Doc, c: Doc) -> Iterator[str]:
    """House policy for one container of a workload."""
    pod, own = pod_spec(doc).get("securityContext", {}), c.get("securityContext", {})
    ctx = {**pod, **own}
    label = f"container {c.get('name')}"
    if ctx.get("runAsNonRoot") is not True or ctx.get("runAsUser", 1) == 0:
        yield f"{label}: must run as non-root (runAsNonRoot: true, runAsUser not 0)"
    if own.get("readOnlyRootFilesystem") is not True:
        yield f"{label}: readOnlyRootFilesystem must be true"
    if own.get("allowPrivilegeEscalation") is not False:
        yield f"{label}: allowPrivilegeEscalation must be false"
    if "ALL" not in own.get("capabilities", {}).get("drop", []):
        yield f"{label}: capabilities must drop ALL"
    if ctx.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        yield f"{label}: seccompProfile must be RuntimeDefault"
    for kind in ("requests", "limits"):
        for res in ("cpu", "memory"):
            if res not in c.get("resources", {}).get(kind, {}):
                yield f"{label}: no {res} {kind}"
    image = str(c.get("image", ""))
    tag = image.rsplit("/", 1)[-1].partition(":")[2]
    if "@" not in image and tag in ("", "latest"):
        yield f"{label}: image {image!r} must have a pinned tag, not latest"
    for var in c.get("env", []):
        if "value" in var and (
            SECRET_NAME.search(var["name"]) or URL_CREDENTIALS.search(var["value"])
        ):
            yield f"{label}: env {var['name']} is a plaintext secret: use valueFrom.secretKeyRef"
    if doc["kind"] == "Deployment":
        for probe in ("readinessProbe", "livenessProbe"):
            if "grpc" not in c.get(probe, {}):
                yield f"{label}: {probe} must be a native grpc: probe"


def workload_problems(doc: Doc) -> list[str]:
    """House policy for a Deployment or Job and each of its containers."""
    problems = [p for c in containers(doc) for p in container_problems(doc, c)]
    if pod_spec(doc).get("automountServiceAccountToken") is not False:
        problems.append("automountServiceAccountToken must be false")
    return problems


def configmap_problems(doc: Doc) -> list[str]:
    """Settings ConfigMaps must not carry secrets."""
    return [
        f"{key} looks like a secret: keep it in a Secret"
        for key, value in (doc.get("data") or {}).items()
        if not key.endswith(".yaml") and (SECRET_NAME.search(key) or URL_CREDENTIALS.search(value))
    ]


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


def settings_of(docs: list[Doc]) -> dict[str, str]:
    """The data of the touchstone-settings ConfigMap (its generated name has a hash suffix)."""
    for doc in docs:
        name = doc["metadata"]["name"]
        if doc["kind"] == "ConfigMap" and name.startswith("touchstone-settings"):
            return doc.get("data") or {}
    return {}


def env_of(doc: Doc, c: Doc, docs: list[Doc]) -> dict[str, Any]:
    """Every variable a container gets: its env entries over the ConfigMaps it takes whole."""
    maps = {d["metadata"]["name"]: d.get("data") or {} for d in docs if d["kind"] == "ConfigMap"}
    env: dict[str, Any] = {}
    for source in c.get("envFrom", []):
        env.update(maps.get(source.get("configMapRef", {}).get("name"), {}))
    env.update({var["name"]: var.get("value", var.get("valueFrom")) for var in c.get("env", [])})
    return env


def service_settings_problems(doc: Doc, docs: list[Doc]) -> Iterator[str]:
    """A service container gets every setting it needs, and each file setting is mounted."""
    for c in pod_spec(doc).get("containers", []):
        env = env_of(doc, c, docs)
        for name, want in SERVICE_SETTINGS.items():
            if name not in env:
                yield f"container {c['name']}: {name} is not set"
            elif want is not None and env[name] != want:
                yield f"container {c['name']}: {name} must be {want!r}, not {env[name]!r}"
        url = env.get("TOUCHSTONE_DATABASE_URL")
        if url is not None and not (isinstance(url, dict) and "secretKeyRef" in url):
            yield f"container {c['name']}: TOUCHSTONE_DATABASE_URL must come from a secretKeyRef"
        mounts = [m["mountPath"] for m in c.get("volumeMounts", [])]
        files = {
            name: str(value)
            for name, value in env.items()
            if name.endswith(("_FILE", "_DIR")) and name != "TOUCHSTONE_STATE_DIR"
        }
        for name, path in files.items():
            if not any(path == m or path.startswith(m.rstrip("/") + "/") for m in mounts):
                yield f"container {c['name']}: {name}={path} is not on a mounted volume"


def topic_problems(docs: list[Doc], settings: dict[str, str]) -> list[str]:
    """KafkaTopics equal ALL_TOPICS with topic_config's retention, or touchstone-init makes them."""
    topics = [d for d in docs if d["kind"] == "KafkaTopic"]
    if not topics:
        init = [
            d for d in docs if d["kind"] == "Job" and d["metadata"]["name"] == "touchstone-init"
        ]
        runs = [c.get("command", []) + c.get("args", []) for j in init for c in containers(j)]
        made = any("topics" in cmd for cmd in runs)
        return [] if made else ["no KafkaTopics and touchstone-init never runs `touchstone topics`"]
    clusters = {d["metadata"]["name"] for d in docs if d["kind"] == "Kafka"}
    problems = [p for doc in topics for p in one_topic_problems(doc, settings, clusters)]
    seen = {d.get("spec", {}).get("topicName", d["metadata"]["name"]) for d in topics}
    return problems + [f"KafkaTopic for {t} is missing" for t in ALL_TOPICS if t not in seen]


def one_topic_problems(doc: Doc, settings: dict[str, str], clusters: set[str]) -> Iterator[str]:
    """One KafkaTopic: a Touchstone topic, its retention, partitions and replicas, its cluster."""
    meta, spec = doc["metadata"], doc.get("spec", {})
    topic, label = spec.get("topicName", meta["name"]), f"{name_of(doc)}: "
    if not DNS1123.match(meta["name"]):
        yield label + "metadata.name is not DNS-1123: set spec.topicName"
    if topic not in ALL_TOPICS:
        yield label + f"{topic} is not a Touchstone topic (ALL_TOPICS)"
        return
    want, got = topic_config(topic)["retention.ms"], (spec.get("config") or {}).get("retention.ms")
    if str(got) != want:
        yield label + f"retention.ms is {got}, topic_config({topic}) says {want}"
    for field in ("partitions", "replicas"):
        setting = f"TOUCHSTONE_TOPIC_{field.upper()}"
        if str(spec.get(field)) != settings.get(setting):
            yield label + f"{field} {spec.get(field)} but {setting}={settings.get(setting)}"
    if meta.get("labels", {}).get("strimzi.io/cluster") not in clusters:
        yield label + "label strimzi.io/cluster names no Kafka in this overlay"


def scaling_problems(docs: list[Doc], settings: dict[str, str]) -> list[str]:
    """No more workers than partitions: Deployment replicas and HPA maxReplicas."""
    partitions = int(settings.get("TOUCHSTONE_TOPIC_PARTITIONS", "0") or 0)
    problems = []
    for doc in docs:
        spec = doc.get("spec", {})
        most = spec.get("replicas") if doc["kind"] == "Deployment" else spec.get("maxReplicas")
        if doc["kind"] in ("Deployment", "HorizontalPodAutoscaler") and (most or 1) > partitions:
            problems.append(
                f"{name_of(doc)}: {most} replicas > TOUCHSTONE_TOPIC_PARTITIONS={partitions}"
            )
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
        if doc.get("kind") == "Deployment":
            found += service_settings_problems(doc, docs)
        if doc.get("kind") == "ConfigMap":
            found += configmap_problems(doc)
        problems += [f"{name_of(doc)}: {p}" for p in found]
    settings = settings_of(docs)
    problems += topic_problems(docs, settings) + scaling_problems(docs, settings)
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
