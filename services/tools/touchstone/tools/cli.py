"""`touchstone`: the operator's entry point. `touchstone --help` lists the commands."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from touchstone.platform.runtime.settings import SERVICES, Settings, settings_from_env
from touchstone.tools.console import command as console_cli
from touchstone.tools.console.command import DEFAULT_PORT, start_console
from touchstone.tools.dev import auth_cli
from touchstone.tools.ops import audit_cli, dlq_cli, replay_cli, rescore_cli, standards_cli

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
Command = Callable[[argparse.Namespace, Settings], int]


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Run one service in this process until stopped."""
    from touchstone.platform.runtime.worker import run_service
    from touchstone.tools.ops.service_specs import service_spec

    run_service(service_spec(args.service), settings)
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    """Apply every service's schema migrations."""
    from touchstone.tools.dev.stack import migrate_all

    for service, versions in migrate_all(settings).items():
        print(f"{service}: {', '.join(versions) if versions else 'up to date'}")
    return 0


def cmd_topics(args: argparse.Namespace, settings: Settings) -> int:
    """Create the topics that do not exist yet."""
    from touchstone.platform.messaging.kafka_admin import ensure_topics
    from touchstone.platform.messaging.topics import ALL_TOPICS

    created = ensure_topics(
        settings.kafka,
        ALL_TOPICS,
        settings.topic_partitions,
        replicas=settings.topic_replicas,
    )
    print(f"created: {', '.join(created) if created else 'none (all exist)'}")
    return 0


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    """Health of each service; exit 1 unless all are SERVING."""
    from touchstone.platform.runtime.health import health_status

    statuses = {
        name: health_status(settings.service_address(name), settings=settings) for name in SERVICES
    }
    for name, status in statuses.items():
        print(f"{name:<9} {settings.service_address(name):<16} {status}")
    return 0 if all(s == "SERVING" for s in statuses.values()) else 1


def cmd_simulate(args: argparse.Namespace, settings: Settings) -> int:
    """Publish simulated journeys to touchpoints.v1."""
    from touchstone.platform.messaging.topics import TOUCHPOINTS
    from touchstone.tools.dev.simulator import LIVE_LEAD, live_visits, publish

    visits = live_visits(args.seed, args.rate, datetime.now(UTC))
    sent = publish(
        settings.kafka,
        TOUCHPOINTS,
        visits,
        stop_after=args.count,
        bad_share=args.bad_share,
        live_lead=LIVE_LEAD,
    )
    print(f"published {sent} touchpoints")
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """The whole system with the simulator, and a live summary until Ctrl-C."""
    from touchstone.tools.dev.stack import LocalStack
    from touchstone.tools.dev.summary import read_summary
    from touchstone.tools.ops.client import Clients
    from touchstone.tools.ops.lag import LagReader
    from touchstone.tools.ops.service_specs import service_spec

    stack = LocalStack(settings)
    print("starting the embedded broker, Postgres and the four services ...", flush=True)
    settings = stack.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if args.rate > 0:
        _register_customers(settings, args.seed)
    simulator = _start_simulator(settings, args, stop)
    _print_endpoints(settings)
    console = start_console(settings, args.console_port) if args.console_port else None
    inputs = {name: service_spec(name).consumed_topics for name in SERVICES}
    lags = LagReader(settings.kafka, inputs, settings.consumer)
    try:
        with Clients(settings) as clients:
            while not stop.wait(args.interval):
                health = stack.services.health()
                print(read_summary(clients).line(health, lags.read()), flush=True)
    except KeyboardInterrupt:
        print("\nstopping ...", flush=True)
    finally:
        # a second Ctrl-C while stopping would leave the broker, Postgres and services behind
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stop.set()
        if console:
            console.stop()
        if simulator:
            simulator.join(10)
        lags.close()
        stack.stop()
    return 0


def _register_customers(settings: Settings, seed: int) -> None:
    """Sign up the simulated customers who have an account, so that recovery has someone to
    write to (their email lands in the mail catcher: .touchstone/mail/)."""
    from touchstone.tools.dev.simulator import registrations
    from touchstone.tools.ops.client import Clients, paced

    with Clients(settings, role="service") as clients:
        count = sum(1 for r in registrations(seed) if paced(clients.contacts.RegisterCustomer, r))
    print(f"registered {count:,} simulated customers (email, language, consent)", flush=True)


def _start_simulator(
    settings: Settings, args: argparse.Namespace, stop: threading.Event
) -> threading.Thread | None:
    if args.rate <= 0:
        return None
    from touchstone.platform.messaging.topics import TOUCHPOINTS
    from touchstone.tools.dev.simulator import LIVE_LEAD, live_visits, publish

    visits = live_visits(args.seed, args.rate, datetime.now(UTC))
    thread = threading.Thread(
        target=publish,
        name="simulator",
        daemon=True,
        args=(settings.kafka, TOUCHPOINTS, visits),
        kwargs={
            "stop_event": stop,
            "bad_share": args.bad_share,
            "live_lead": LIVE_LEAD,
        },
    )
    thread.start()
    return thread


def _print_endpoints(settings: Settings) -> None:
    print(f"kafka     {settings.kafka_bootstrap}")
    print(f"postgres  {settings.database_url}")
    for name in SERVICES:
        print(f"{name:<9} grpc://{settings.service_address(name)}")
    if settings.auth_signing_key is not None:
        folder = _write_dev_tokens(settings)
        print(f"tokens    {folder}/<role>.token, one a role (development key set; every call")
        print(f"          needs one): export TOUCHSTONE_TOKEN=$(cat {folder}/manager.token)")
    print(f"logs      {settings.state_dir / 'logs'}   (Ctrl-C stops everything)", flush=True)


def _write_dev_tokens(settings: Settings) -> Path:
    """A token a role, signed with the local stack's development key, in its keys folder."""
    from touchstone.platform.security.auth import ROLES
    from touchstone.tools.ops.dev_keys import mint, write_private

    assert settings.auth_signing_key is not None
    folder = settings.auth_signing_key.parent
    for role in ROLES:
        token = mint(
            settings.auth_signing_key,
            subject=f"dev-{role}",
            roles=[role],
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
        )
        write_private(folder / f"{role}.token", (token + "\n").encode())
    return folder


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    """End-to-end throughput, sustained rate, queries under load, replay, latency, idle; the
    last line printed is one JSON object."""
    from touchstone.tools.dev.bench import BenchPlan, run_bench

    plan = BenchPlan(
        events=args.events,
        latency_per_s=args.rate,
        query_calls_per_s=args.query_rate,
        query_ingest_per_s=args.query_ingest_rate,
        query_s=args.query_seconds,
        sustained_step_s=args.sustained_seconds,
    )
    run_bench(settings, plan)
    return 0


def cmd_faults(args: argparse.Namespace, settings: Settings) -> int:
    """The fault matrix on fresh embedded stacks, each row compared with a fault-free run;
    exit 1 unless every row is identical to it."""
    from touchstone.tools.dev.faults.matrix import Plan, run_matrix

    plan = Plan(
        events=args.events,
        outage_s=args.outage_seconds,
        overload_per_s=args.overload_rate,
        overload_s=args.overload_seconds,
        matrix=not args.overload_only,
    )
    verdicts = run_matrix(settings, plan)
    return 0 if all(v.passed for v in verdicts) else 1


def cmd_bench_queries(args: argparse.Namespace, settings: Settings) -> int:
    """Loyalty's ranking and value-at-risk queries over many customers; one JSON line."""
    from touchstone.tools.dev.query_bench import run_query_bench

    run_query_bench(settings, customers=args.customers, runs=args.runs)
    return 0


def installed_version() -> str:
    """Touchstone's version as installed (pyproject.toml's, once `make venv` has run)."""
    try:
        return metadata.version("touchstone")
    except metadata.PackageNotFoundError:
        return "unknown (not installed: run `make venv`)"


def parser() -> argparse.ArgumentParser:
    """The command line."""
    top = argparse.ArgumentParser(prog="touchstone", description=__doc__)
    top.add_argument("--version", action="version", version=f"%(prog)s {installed_version()}")
    sub = top.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help=cmd_serve.__doc__)
    serve.add_argument("service", choices=SERVICES, help="the service to run")
    serve.set_defaults(func=cmd_serve)
    for name, func in (("migrate", cmd_migrate), ("topics", cmd_topics), ("status", cmd_status)):
        sub.add_parser(name, help=func.__doc__).set_defaults(func=func)
    for name, func in (("run", cmd_run), ("simulate", cmd_simulate)):
        p = sub.add_parser(name, help=func.__doc__)
        p.add_argument("--rate", type=float, default=50.0, help="touchpoints per second")
        p.add_argument(
            "--seed",
            type=int,
            default=int(time.time()),
            help="the simulation's seed (default: the time now; the same seed, the same visits)",
        )
        p.add_argument("--bad-share", type=float, default=0.01, help="share of bad records")
        p.set_defaults(func=func)
        if name == "run":
            p.add_argument("--interval", type=float, default=2.0, help="seconds between lines")
            p.add_argument(
                "--console-port", type=int, default=DEFAULT_PORT, help="the console's (0: none)"
            )
        else:
            p.add_argument("--count", type=int, default=None, help="stop after this many")
    dlq_cli.add_commands(sub)
    standards_cli.add_commands(sub)
    rescore_cli.add_commands(sub)
    replay_cli.add_commands(sub)
    auth_cli.add_commands(sub)
    audit_cli.add_commands(sub)
    console_cli.add_commands(sub)
    bench = sub.add_parser("bench", help=cmd_bench.__doc__)
    bench.add_argument(
        "--events", type=int, default=100_000, help="touchpoints in each throughput burst"
    )
    bench.add_argument(
        "--rate", type=float, default=500.0, help="offered rate for latency (below capacity)"
    )
    bench.add_argument(
        "--query-rate", type=float, default=1_000.0, help="query calls/s, the four methods together"
    )
    bench.add_argument(
        "--query-ingest-rate",
        type=float,
        default=2_500.0,
        help="touchpoints/s offered while the queries run",
    )
    bench.add_argument("--query-seconds", type=float, default=20.0, help="how long queries run")
    bench.add_argument(
        "--sustained-seconds",
        type=float,
        default=180.0,
        help="each sustained-rate step (0: no sustained phase)",
    )
    bench.set_defaults(func=cmd_bench)
    faults = sub.add_parser("faults", help=cmd_faults.__doc__)
    faults.add_argument("--events", type=int, default=20_000, help="touchpoints per row")
    faults.add_argument(
        "--outage-seconds", type=float, default=30.0, help="Postgres stopped, broker cut"
    )
    faults.add_argument("--overload-rate", type=float, default=2_000.0, help="touchpoints/s")
    faults.add_argument(
        "--overload-seconds", type=float, default=180.0, help="0 leaves the overload row out"
    )
    faults.add_argument(
        "--overload-only", action="store_true", help="the overload row and its reference alone"
    )
    faults.set_defaults(func=cmd_faults)
    queries = sub.add_parser("bench-queries", help=cmd_bench_queries.__doc__)
    queries.add_argument(
        "--customers", type=int, default=100_000, help="customers to rank and value"
    )
    queries.add_argument("--runs", type=int, default=300, help="timed calls per query")
    queries.set_defaults(func=cmd_bench_queries)
    return top


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `touchstone` command."""
    args = parser().parse_args(argv)
    settings = settings_from_env()
    # SIGTERM unwinds like Ctrl-C, so the stack a command started is stopped, not orphaned
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    logging.basicConfig(level=settings.log_level.upper(), format=LOG_FORMAT)
    result: int = args.func(args, settings)
    return result


if __name__ == "__main__":
    sys.exit(main())
