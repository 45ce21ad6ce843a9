"""deploy/observability as the README describes it: the README's alert table is the
PrometheusRule's alerts, and the dashboard shows throughput, lag, latency, verdicts, cases and
deliveries (deploy-check validates both against the metrics the services export)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
OBSERVABILITY = ROOT / "deploy" / "observability"
ROW = re.compile(r"^\| `(Touchstone\w+)` \| `(.+)` \| (\w+) \|$", re.MULTILINE)


def test_the_operations_guide_lists_exactly_the_alerts_that_ship() -> None:
    rule = yaml.safe_load((OBSERVABILITY / "alerts.yaml").read_text())
    shipped = [
        (r["alert"], " ".join(str(r["expr"]).split()), r["for"])
        for group in rule["spec"]["groups"]
        for r in group["rules"]
    ]
    assert ROW.findall((ROOT / "docs" / "operations.md").read_text()) == shipped


def test_every_alert_says_what_to_do_and_how_bad_it_is() -> None:
    rule = yaml.safe_load((OBSERVABILITY / "alerts.yaml").read_text())
    for r in (r for g in rule["spec"]["groups"] for r in g["rules"]):
        assert r["labels"]["severity"] in ("info", "warning", "critical"), r["alert"]
        assert r["annotations"]["summary"] and r["annotations"]["description"], r["alert"]


def test_the_dashboard_shows_what_an_operator_looks_for_first() -> None:
    board = json.loads((OBSERVABILITY / "dashboards" / "touchstone.json").read_text())
    queried = " ".join(t["expr"] for p in board["panels"] for t in p["targets"])
    for metric in (
        "touchstone_events_consumed_total",  # throughput
        "touchstone_consumer_lag_records",  # lag
        "touchstone_batch_seconds_bucket",  # latency of the streams
        "touchstone_grpc_server_handling_seconds_bucket",  # latency of the API
        "touchstone_journey_moments_total",  # verdicts
        "touchstone_notify_cases",  # cases
        "touchstone_notify_deliveries_total",  # deliveries
    ):
        assert metric in queried, metric
