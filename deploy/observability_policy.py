"""What make deploy-check asks of the observability an overlay ships (deploy/observability/):
every metric a PrometheusRule or the Grafana dashboard queries is one the services export (a
typo'd name alerts never and draws nothing, silently); every PodMonitor scrapes a port the
services' pods name; the dashboard is a dashboard Grafana can load."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from manifest_policy import Doc, name_of, pod_spec
from prometheus_client import REGISTRY

import touchstone.platform.runtime.metrics  # noqa: F401  (registers every metric the services export)

METRIC = re.compile(r"\b(touchstone_[a-z0-9_]+)")
SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_count", "_sum")}
SUFFIXES["gauge"] = ("",)


def exported_series() -> set[str]:
    """Every series name the services' metrics produce (a counter's _total, a histogram's
    _bucket, _count and _sum, ...)."""
    return {
        family.name + suffix
        for family in REGISTRY.collect()
        if family.name.startswith("touchstone_")
        for suffix in SUFFIXES.get(family.type, ("",))
    }


def queried_metrics(expressions: list[str]) -> set[str]:
    """The touchstone_* metric names the expressions name."""
    return {name for expr in expressions for name in METRIC.findall(expr)}


def observability_problems(docs: list[Doc]) -> list[str]:
    """Every problem with the overlay's rules, monitors and dashboards, each naming its resource."""
    exported = exported_series()
    problems = []
    for doc in docs:
        if doc["kind"] == "PrometheusRule":
            exprs = [str(r["expr"]) for g in doc["spec"]["groups"] for r in g["rules"]]
            problems += _unknown(doc, exprs, exported)
        elif doc["kind"] == "PodMonitor":
            problems += [f"{name_of(doc)}: {p}" for p in _monitor_problems(doc, docs)]
        elif doc["kind"] == "ConfigMap" and _is_dashboard(doc):
            for key, text in (doc.get("data") or {}).items():
                found = list(_dashboard_problems(key, text))
                problems += [f"{name_of(doc)}: {p}" for p in found]
                if not found:
                    problems += _unknown(doc, _dashboard_exprs(json.loads(text)), exported)
    return problems


def _unknown(doc: Doc, expressions: list[str], exported: set[str]) -> list[str]:
    return [
        f"{name_of(doc)}: queries {name}, which no service exports"
        " (touchstone.platform.runtime.metrics)"
        for name in sorted(queried_metrics(expressions) - exported)
    ]


def _is_dashboard(doc: Doc) -> bool:
    return (doc["metadata"].get("labels") or {}).get("grafana_dashboard") == "1"


def _monitor_problems(monitor: Doc, docs: list[Doc]) -> Iterator[str]:
    wanted = monitor["spec"]["selector"].get("matchLabels") or {}
    pods = [
        pod_spec(d)
        for d in docs
        if d["kind"] == "Deployment"
        and wanted.items() <= (d["spec"]["template"]["metadata"].get("labels") or {}).items()
    ]
    if not pods:
        yield f"selects no Deployment's pods ({wanted})"
    for endpoint in monitor["spec"]["podMetricsEndpoints"]:
        port = endpoint.get("port")
        for pod in pods:
            named = {p.get("name") for c in pod["containers"] for p in c.get("ports") or ()}
            if port is not None and port not in named:
                yield f"scrapes port {port!r}, which a selected pod does not name ({sorted(named)})"


def _dashboard_problems(key: str, text: str) -> Iterator[str]:
    try:
        board: Any = json.loads(text)
    except json.JSONDecodeError as error:
        yield f"{key} is not JSON: {error}"
        return
    for field in ("uid", "title", "panels", "schemaVersion"):
        if field not in board:
            yield f"{key} has no {field}"
    ids = [panel.get("id") for panel in board.get("panels", [])]
    if len(ids) != len(set(ids)) or None in ids:
        yield f"{key}: every panel needs an id of its own"
    variables = {v.get("name") for v in (board.get("templating") or {}).get("list", [])}
    for panel in board.get("panels", []):
        uid = str((panel.get("datasource") or {}).get("uid", ""))
        if uid.startswith("${") and uid[2:-1] not in variables:
            yield f"{key}: panel {panel.get('title')!r} uses {uid}, which is no variable"
        if not panel.get("targets"):
            yield f"{key}: panel {panel.get('title')!r} queries nothing"


def _dashboard_exprs(board: Any) -> list[str]:
    return [t.get("expr", "") for p in board.get("panels", []) for t in p.get("targets", [])]
