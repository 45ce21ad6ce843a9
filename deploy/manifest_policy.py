"""House policy for the built manifests of deploy-check (check_manifests.py runs it).

Every container: non-root, read-only root, no capabilities, seccomp, requests and limits, a
pinned tag, secrets by reference, gRPC probes. Every service: the settings it needs, and its
files mounted. KafkaTopics match touchstone.platform.messaging.topics; no more replicas than
partitions.
KafkaUsers: nobody may write a wildcard or prefix of topics, and each service connects as its own
user, who writes exactly the topics its ServiceSpec writes and reads what it consumes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from touchstone.platform.messaging.topics import ALL_TOPICS, topic_config
from touchstone.platform.runtime.settings import SERVICES, Settings
from touchstone.platform.serving.rpc import LIVENESS
from touchstone.tools.console.exposure import ConsoleSettings, Exposure
from touchstone.tools.dev.stack import service_spec

WORKLOADS = {"Deployment", "Job"}
SERVICE_SETTINGS = {
    "TOUCHSTONE_GRPC_HOST": "0.0.0.0",
    "TOUCHSTONE_EMBEDDED": "0",
    "TOUCHSTONE_STATE_DIR": None,
    "TOUCHSTONE_AUTH_KEYS": None,
    "TOUCHSTONE_KAFKA_BOOTSTRAP": None,
    "TOUCHSTONE_DATABASE_URL": None,
    "TOUCHSTONE_TOPIC_PARTITIONS": None,
    "TOUCHSTONE_LOG_LEVEL": None,
    "TOUCHSTONE_REBALANCE_TIMEOUT_S": None,
}
SECRET_NAME = re.compile(
    r"SECRET|PASSWORD|TOKEN|DATABASE_URL|PRIVATE_KEY|API_KEY|IDENTITY_KEYS", re.I
)
URL_CREDENTIALS = re.compile(r"://[^/@\s:]+:[^/@\s]+@")
FILE_SETTINGS = ("_FILE", "_DIR", "_KEYS", "_CA", "_CERT", "_KEY")
# what a secretKeyRef stands for when the settings are read as a service would read them: the
# database URL as an operator's secret holds it (a host on the network, no sslmode)
FROM_SECRET = {
    "TOUCHSTONE_DATABASE_URL": "postgresql://touchstone:secret@database.invalid/touchstone"
}
DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")

Doc = dict[str, Any]


def component_of(doc: Doc) -> str:
    """A Deployment's app.kubernetes.io/component: service (the four), console, ..."""
    labels = doc.get("spec", {}).get("template", {}).get("metadata", {}).get("labels") or {}
    return str(labels.get("app.kubernetes.io/component", ""))


def is_service(doc: Doc) -> bool:
    return doc["kind"] == "Deployment" and component_of(doc) == "service"


def name_of(doc: Doc) -> str:
    """Kind/name, as problems name a resource."""
    return f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"


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
    if is_service(doc):
        for probe in ("readinessProbe", "livenessProbe"):
            if "grpc" not in c.get(probe, {}):
                yield f"{label}: {probe} must be a native grpc: probe"
        yield from probe_service_problems(label, c)
    elif doc["kind"] == "Deployment":
        for probe in ("readinessProbe", "livenessProbe"):
            if c.get(probe, {}).get("httpGet", {}).get("path") != "/healthz":
                yield f"{label}: {probe} must ask httpGet /healthz"


def probe_service_problems(label: str, c: dict[str, Any]) -> Iterator[str]:
    """Readiness asks the whole server (true to the database, broker and partitions); startup
    and liveness ask `liveness` (the process answers), or an outage would restart every pod."""
    for probe, want in (("readinessProbe", None), ("livenessProbe", LIVENESS)):
        grpc_probe = c.get(probe, {}).get("grpc")
        if grpc_probe is not None and grpc_probe.get("service") != want:
            yield f"{label}: {probe} must ask for service {want or 'none (the whole server)'}"
    startup = c.get("startupProbe", {}).get("grpc")
    if startup is not None and startup.get("service") != LIVENESS:
        yield f"{label}: startupProbe must ask for service {LIVENESS}"


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
    for var in c.get("env", []):
        source = var.get("valueFrom", {}).get("configMapKeyRef")
        if source is not None:  # a ConfigMap's value is a setting like any other
            env[var["name"]] = maps.get(source.get("name"), {}).get(source.get("key"), "")
        else:
            env[var["name"]] = var.get("value", var.get("valueFrom"))
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
        yield from (f"container {c['name']}: {p}" for p in settings_read_problems(env))
        mounts = [m["mountPath"] for m in c.get("volumeMounts", [])]
        files = {
            name: str(value)
            for name, value in env.items()
            if name.endswith(FILE_SETTINGS)
            and name != "TOUCHSTONE_STATE_DIR"
            and isinstance(value, str)  # a secretKeyRef holds the value itself, not a path
        }
        for name, path in files.items():
            if not any(path == m or path.startswith(m.rstrip("/") + "/") for m in mounts):
                yield f"container {c['name']}: {name}={path} is not on a mounted volume"


def job_settings_problems(doc: Doc, docs: list[Doc]) -> list[str]:
    """What each container of a Job would refuse when it reads its settings."""
    return [
        f"container {c['name']}: {p}"
        for c in containers(doc)
        for p in settings_read_problems(env_of(doc, c, docs))
    ]


def console_settings_problems(doc: Doc, docs: list[Doc]) -> Iterator[str]:
    """The console knows where every service answers, and would start with its settings."""
    for c in pod_spec(doc).get("containers", []):
        env = {k: str(v) for k, v in env_of(doc, c, docs).items() if not isinstance(v, dict)}
        env.setdefault("TOUCHSTONE_CONSOLE_HOST", "0.0.0.0")  # the image's
        for service in SERVICES:
            if not env.get(f"TOUCHSTONE_{service.upper()}_ADDRESS"):
                yield f"container {c['name']}: TOUCHSTONE_{service.upper()}_ADDRESS is not set"
        try:
            Settings.from_env(env)
            console = ConsoleSettings.from_env(env)
            Exposure.of(Settings(), console.host, console)
        except ValueError as refused:
            yield f"container {c['name']}: the console would not start: {refused}"


def settings_read_problems(env: dict[str, Any]) -> list[str]:
    """What the service would refuse at start when it reads these settings (plaintext Kafka or
    Postgres beyond loopback, incomplete TLS or SASL, ...); a secretKeyRef stands for a value."""
    values = {
        name: FROM_SECRET.get(name, "from-secret") if isinstance(value, dict) else str(value)
        for name, value in env.items()
    }
    try:
        Settings.from_env(values).database_connection.conninfo(environ={})
    except ValueError as refused:
        return [f"settings refused at start: {refused}"]
    return []


def topic_problems(docs: list[Doc], settings: dict[str, str]) -> list[str]:
    """KafkaTopics equal ALL_TOPICS with topic_config (retention, record limit), or touchstone-init
    makes them."""
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
    """One KafkaTopic: a Touchstone topic, its config, partitions and replicas, its cluster."""
    meta, spec = doc["metadata"], doc.get("spec", {})
    topic, label = spec.get("topicName", meta["name"]), f"{name_of(doc)}: "
    if not DNS1123.match(meta["name"]):
        yield label + "metadata.name is not DNS-1123: set spec.topicName"
    if topic not in ALL_TOPICS:
        yield label + f"{topic} is not a Touchstone topic (ALL_TOPICS)"
        return
    limit = int(settings.get("TOUCHSTONE_MAX_RECORD_BYTES") or Settings.max_record_bytes)
    config = spec.get("config") or {}
    for key, want in topic_config(topic, limit).items():
        if str(config.get(key)) != want:
            yield label + f"{key} is {config.get(key)}, topic_config({topic}) says {want}"
    for field in ("partitions", "replicas"):
        setting = f"TOUCHSTONE_TOPIC_{field.upper()}"
        if str(spec.get(field)) != settings.get(setting):
            yield label + f"{field} {spec.get(field)} but {setting}={settings.get(setting)}"
    if meta.get("labels", {}).get("strimzi.io/cluster") not in clusters:
        yield label + "label strimzi.io/cluster names no Kafka in this overlay"


def scaling_problems(docs: list[Doc], settings: dict[str, str]) -> list[str]:
    """No more workers than partitions: Deployment replicas, HPA maxReplicas and KEDA
    ScaledObject maxReplicaCount."""
    partitions = int(settings.get("TOUCHSTONE_TOPIC_PARTITIONS", "0") or 0)
    field = {"Deployment": "replicas", "HorizontalPodAutoscaler": "maxReplicas"}
    field["ScaledObject"] = "maxReplicaCount"
    problems = []
    for doc in docs:
        unset = 100 if doc["kind"] == "ScaledObject" else 1  # KEDA's default is 100
        most = doc.get("spec", {}).get(field.get(doc["kind"], ""), unset)
        if doc["kind"] in field and (most or 1) > partitions:
            problems.append(
                f"{name_of(doc)}: {most} replicas > TOUCHSTONE_TOPIC_PARTITIONS={partitions}"
            )
    return problems


WRITES = {"Write", "All"}


def kafka_user_problems(docs: list[Doc]) -> list[str]:
    """No KafkaUser writes a wildcard or a prefix of topics; each service Deployment connects as
    a KafkaUser (with that user's own password) who writes exactly the topics its ServiceSpec
    writes and may read every topic it consumes."""
    users = {d["metadata"]["name"]: d for d in docs if d["kind"] == "KafkaUser"}
    problems = [
        f"{name_of(user)}: writes {acl['resource'].get('name')!r} "
        f"({acl['resource'].get('patternType', 'literal')}): name every topic it writes"
        for user in users.values()
        for acl in topic_acls(user)
        if WRITES & set(acl.get("operations", []))
        and (acl["resource"].get("name") == "*" or acl["resource"].get("patternType") == "prefix")
    ]
    if not users:
        return problems  # no Kafka users in this overlay (dev: plaintext on the cluster network)
    for doc in docs:
        if is_service(doc):
            problems += [f"{name_of(doc)}: {p}" for p in service_user_problems(doc, users)]
    return problems


def service_user_problems(doc: Doc, users: dict[str, Doc]) -> Iterator[str]:
    """One service's Kafka user against its ServiceSpec."""
    container = pod_spec(doc).get("containers", [{}])[0]
    env = {var["name"]: var for var in container.get("env", [])}
    name = env.get("TOUCHSTONE_KAFKA_SASL_USERNAME", {}).get("value")
    user = users.get(str(name))
    if user is None:
        yield f"connects as {name!r}, which is no KafkaUser of this overlay"
        return
    secret = env.get("TOUCHSTONE_KAFKA_SASL_PASSWORD", {}).get("valueFrom", {})
    if secret.get("secretKeyRef", {}).get("name") != name:
        yield f"its Kafka password must come from secret {name} (the user's own)"
    spec = service_spec(doc["metadata"]["name"])
    granted: dict[str, set[str]] = {}
    for acl in topic_acls(user):
        granted.setdefault(acl["resource"].get("name"), set()).update(acl.get("operations", []))
    writes = {topic for topic, ops in granted.items() if ops & WRITES}
    if writes != set(spec.written_topics):
        yield (
            f"KafkaUser {name} writes {sorted(writes)}; {spec.name} writes "
            f"{sorted(spec.written_topics)} (ServiceSpec)"
        )
    unread = [t for t in spec.consumed_topics if not granted.get(t, set()) & {"Read", "All"}]
    if unread:
        yield f"KafkaUser {name} may not read {unread}, which {spec.name} consumes"


def topic_acls(user: Doc) -> list[Doc]:
    """A KafkaUser's ACLs on topics."""
    acls = user.get("spec", {}).get("authorization", {}).get("acls", [])
    return [acl for acl in acls if acl.get("resource", {}).get("type") == "topic"]
