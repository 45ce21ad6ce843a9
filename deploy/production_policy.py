"""What deploy-check asks of a production overlay (check_manifests.py runs it): gRPC over TLS with
a certificate from cert-manager, and NetworkPolicies that let each workload do its job and no
more.

Every overlay is production unless its Namespace is labelled touchstone.io/environment:
development (overlays/dev): a new overlay is held to these rules until it says otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from manifest_policy import WORKLOADS, Doc, env_of, is_service, name_of, pod_spec

from touchstone.platform.runtime.env_reader import EnvReader, SettingError

ENVIRONMENT_LABEL = "touchstone.io/environment"
DEVELOPMENT = "development"


def is_production(docs: list[Doc]) -> bool:
    """Whether the overlay is held to production rules: no Namespace of it says development."""
    return not any(
        d["kind"] == "Namespace"
        and d["metadata"].get("labels", {}).get(ENVIRONMENT_LABEL) == DEVELOPMENT
        for d in docs
    )


def grpc_tls_problems(docs: list[Doc]) -> list[str]:
    """Each service serves gRPC over TLS with its own cert-manager certificate for its Service's
    name, and its probes ask the plaintext health-only port (native gRPC probes cannot do TLS)."""
    certificates = {
        d["spec"].get("secretName"): d for d in docs if d["kind"] == "Certificate" and "spec" in d
    }
    problems = []
    for doc in docs:
        if is_service(doc):
            problems += [
                f"{name_of(doc)}: {p}" for p in _service_tls_problems(doc, docs, certificates)
            ]
        elif doc["kind"] == "Deployment":
            problems += [f"{name_of(doc)}: {p}" for p in _client_tls_problems(doc, docs)]
    return problems


def _client_tls_problems(doc: Doc, docs: list[Doc]) -> Iterator[str]:
    """A client of the services (the console) verifies their certificates: it names the CA,
    on a mounted volume, and does not speak plaintext; browsers reach it over TLS."""
    container = pod_spec(doc).get("containers", [{}])[0]
    env = {k: v for k, v in env_of(doc, container, docs).items() if isinstance(v, str)}
    if EnvReader(env).flag("TOUCHSTONE_GRPC_PLAINTEXT", False):
        yield "TOUCHSTONE_GRPC_PLAINTEXT is on: it would send tokens in the clear"
    ca = env.get("TOUCHSTONE_GRPC_TLS_CA")
    mounts = [m["mountPath"].rstrip("/") + "/" for m in container.get("volumeMounts", [])]
    if not ca:
        yield "TOUCHSTONE_GRPC_TLS_CA is not set: it cannot verify the services' certificates"
    elif not any(ca.startswith(m) for m in mounts):
        yield f"TOUCHSTONE_GRPC_TLS_CA={ca} is not on a mounted volume"
    if not env.get("TOUCHSTONE_CONSOLE_URL", "").startswith("https://"):
        yield "TOUCHSTONE_CONSOLE_URL must be its https:// address: its cookie is a bearer token"


def _service_tls_problems(doc: Doc, docs: list[Doc], certificates: dict[str, Doc]) -> Iterator[str]:
    container = pod_spec(doc).get("containers", [{}])[0]
    env = {k: v for k, v in env_of(doc, container, docs).items() if isinstance(v, str)}
    try:
        plaintext = EnvReader(env).flag("TOUCHSTONE_GRPC_PLAINTEXT", False)
        health_port = EnvReader(env).integer("TOUCHSTONE_GRPC_HEALTH_PORT", 0, high=65_535)
    except SettingError as refused:
        yield str(refused)
        return
    if plaintext:
        yield "TOUCHSTONE_GRPC_PLAINTEXT is on: production gRPC must be TLS (grpc-tls.yaml)"
    cert, key = env.get("TOUCHSTONE_GRPC_TLS_CERT"), env.get("TOUCHSTONE_GRPC_TLS_KEY")
    if not cert or not key:
        yield "gRPC in plaintext: TOUCHSTONE_GRPC_TLS_CERT and TOUCHSTONE_GRPC_TLS_KEY must be set"
    else:
        for name, path in (("TOUCHSTONE_GRPC_TLS_CERT", cert), ("TOUCHSTONE_GRPC_TLS_KEY", key)):
            yield from _certificate_problems(doc, container, name, path, certificates)
    probes = {p: container.get(p, {}).get("grpc", {}).get("port") for p in PROBES}
    if any(port != health_port for port in probes.values()) or not health_port:
        asked = sorted(set(map(str, probes.values())))
        yield (
            f"probes ask ports {asked}, but a TLS server answers Kubernetes' gRPC probes only "
            f"on TOUCHSTONE_GRPC_HEALTH_PORT ({health_port or 'unset'})"
        )


PROBES = ("startupProbe", "readinessProbe", "livenessProbe")


def _certificate_problems(
    doc: Doc, container: Doc, setting: str, cert_path: str, certificates: dict[str, Doc]
) -> Iterator[str]:
    """The certificate or key file comes from a Secret a cert-manager Certificate of this
    overlay issues, for the name clients use: the service's."""
    mounts = {m["name"]: m["mountPath"].rstrip("/") for m in container.get("volumeMounts", [])}
    volumes = {v["name"]: v for v in pod_spec(doc).get("volumes", [])}
    secret = next(
        (
            volumes.get(name, {}).get("secret", {}).get("secretName")
            for name, path in mounts.items()
            if cert_path.startswith(path + "/")
        ),
        None,
    )
    certificate = certificates.get(str(secret))
    if secret is None or certificate is None:
        yield (
            f"{setting}={cert_path} is not from a Secret a cert-manager "
            "Certificate of this overlay issues"
        )
        return
    service = doc["metadata"]["name"]
    if setting.endswith("_CERT") and service not in certificate["spec"].get("dnsNames", []):
        yield f"{name_of(certificate)} does not name {service!r} in its dnsNames"


def network_policy_problems(docs: list[Doc]) -> list[str]:
    """Every workload is shut by a deny-all NetworkPolicy (in and out) and let out by another;
    each service's gRPC port is open to some named peers; no rule lets every pod in."""
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
    problems = [
        f"{name_of(p)}: {problem}" for p in policies for problem in _rule_problems(p["spec"])
    ]
    for doc in docs:
        if doc["kind"] in WORKLOADS:
            problems += [f"{name_of(doc)}: {p}" for p in _workload_policy_problems(doc, policies)]
    return problems


def _rule_problems(spec: Doc) -> Iterator[str]:
    """Rules that open to everyone: an ingress peer that is every pod, or everywhere; an egress
    rule to anywhere, or to every port."""
    for i, rule in enumerate(spec.get("ingress") or [], 1):
        if not rule.get("from") or any(_everyone(peer) for peer in rule["from"]):
            yield f"ingress rule {i} admits every pod to {_ports(rule)}: name its peers"
        elif any(_any_namespace(peer) for peer in rule["from"]):
            yield (
                f"ingress rule {i} admits a pod label from any namespace to {_ports(rule)}: "
                "anyone who may run a pod somewhere can give it the label; name the namespaces"
            )
    for i, rule in enumerate(spec.get("egress") or [], 1):
        if not rule.get("to") or any(_everyone(peer) for peer in rule["to"]):
            yield f"egress rule {i} lets it reach everything on {_ports(rule)}: name where"
        elif not rule.get("ports"):
            yield f"egress rule {i} opens every port: name the ports"


OPEN_CIDRS = ("0.0.0.0/0", "::/0")


def _everyone(peer: Doc) -> bool:
    """A peer that stands for every pod of a namespace or the cluster, or every address (an
    ipBlock of everything with nothing excepted)."""
    if "ipBlock" in peer:
        block = peer["ipBlock"]
        return block.get("cidr") in OPEN_CIDRS and not block.get("except")
    selectors = [peer.get("podSelector"), peer.get("namespaceSelector")]
    return all(not s or not (s.get("matchLabels") or s.get("matchExpressions")) for s in selectors)


def _any_namespace(peer: Doc) -> bool:
    """A peer of every namespace (an empty namespaceSelector), known by pod labels alone."""
    namespaces = peer.get("namespaceSelector")
    return namespaces is not None and not (
        namespaces.get("matchLabels") or namespaces.get("matchExpressions")
    )


def _workload_policy_problems(doc: Doc, policies: list[Doc]) -> Iterator[str]:
    labels = doc.get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {})
    mine = [p for p in policies if _selects(p["spec"].get("podSelector", {}), labels)]
    shut = [p for p in mine if _denies_all(p)]
    if not shut:
        yield "no NetworkPolicy shuts it (policyTypes Ingress and Egress, no rules)"
    if not any(p["spec"].get("egress") for p in mine):
        yield "no NetworkPolicy lets it out: it cannot reach Kafka, Postgres or DNS"
    grpc_port = {str(p.get("containerPort")) for c in pod_spec(doc).get("containers", [])
                 for p in c.get("ports", []) if p.get("name") == "grpc"}  # fmt: skip
    ingress = [rule for p in mine for rule in p["spec"].get("ingress") or []]
    if is_service(doc) and not any(_opens(rule, {"grpc", *grpc_port}) for rule in ingress):
        yield "no NetworkPolicy lets clients reach its gRPC port"
    elif (
        doc["kind"] == "Deployment"
        and not is_service(doc)
        and not any(_opens(rule, {"http", "8080"}) for rule in ingress)
    ):
        yield "no NetworkPolicy lets browsers (the ingress controller) reach its http port"


CLUSTER_NAME_SUFFIXES = (".svc", ".svc.cluster.local", ".cluster.local")


def mail_route_problems(docs: list[Doc]) -> list[str]:
    """Notify's SMTP host is one its NetworkPolicies let it reach: a name in the cluster (no dot,
    or a Service's DNS name) needs a rule to pods on the SMTP port; else the egress to addresses
    beyond the cluster network serves."""
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
    problems = []
    for doc in docs:
        if doc["kind"] != "Deployment" or doc["metadata"]["name"] != "notify":
            continue
        labels = doc["spec"]["template"]["metadata"].get("labels", {})
        mine = [p for p in policies if _selects(p["spec"].get("podSelector", {}), labels)]
        for container in pod_spec(doc).get("containers", []):
            env = env_of(doc, container, docs)
            host, port = str(env.get("TOUCHSTONE_SMTP_HOST", "")), env.get("TOUCHSTONE_SMTP_PORT")
            in_cluster = bool(host) and ("." not in host or host.endswith(CLUSTER_NAME_SUFFIXES))
            to_pods = any(
                _opens(rule, {str(port)}) and any("ipBlock" not in peer for peer in rule["to"])
                for p in mine
                for rule in p["spec"].get("egress") or []
                if rule.get("to")
            )
            if in_cluster and not to_pods:
                problems.append(
                    f"{name_of(doc)}: TOUCHSTONE_SMTP_HOST={host} is a name in the cluster, but no "
                    f"NetworkPolicy lets notify reach a pod on port {port}: name your mail "
                    "provider's host, or let notify reach your relay"
                )
    return problems


def _denies_all(policy: Doc) -> bool:
    spec = policy["spec"]
    types = set(spec.get("policyTypes", []))
    return {"Ingress", "Egress"} <= types and not spec.get("ingress") and not spec.get("egress")


def _opens(rule: Doc, port: set[str]) -> bool:
    """Whether a rule opens the port (by name or number; a rule naming no ports opens all)."""
    ports = rule.get("ports")
    return not ports or any(str(p.get("port")) in port for p in ports)


def _ports(rule: Doc) -> str:
    """The ports a rule opens, as text ('every port' when it names none)."""
    ports = [str(p.get("port")) for p in rule.get("ports") or []]
    return ", ".join(ports) if ports else "every port"


def _selects(selector: Doc, labels: dict[str, Any]) -> bool:
    """Whether a label selector picks pods with these labels (matchLabels and the
    matchExpressions operators In, NotIn, Exists, DoesNotExist)."""
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values")
        present, value = key in labels, labels.get(key)
        if not {
            "In": present and value in (values or []),
            "NotIn": not present or value not in (values or []),
            "Exists": present,
            "DoesNotExist": not present,
        }.get(operator, False):
            return False
    return True
