"""The whole system on one machine: infrastructure, topics, schemas and the four service processes.

`touchstone run`, `touchstone bench` and the end-to-end tests all start it the same way.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from touchstone.platform.messaging.kafka_admin import ensure_topics
from touchstone.platform.messaging.topics import ALL_TOPICS
from touchstone.platform.persistence.pg import apply_migrations
from touchstone.platform.runtime.health import health_status, wait_until_serving
from touchstone.platform.runtime.settings import SERVICES, Settings
from touchstone.tools.dev.embedded import EmbeddedBroker, EmbeddedPostgres
from touchstone.tools.ops.service_specs import service_spec

if TYPE_CHECKING:  # aiosmtpd is in the `local` extra only: images run migrate without it
    from touchstone.tools.dev.mail_catcher import MailCatcher

log = logging.getLogger(__name__)


def migrate_all(settings: Settings) -> dict[str, list[str]]:
    """Apply every service's migrations; the versions applied, by service."""
    return {
        name: apply_migrations(settings.database, name, *service_spec(name).migration_sources)
        for name in SERVICES
    }


@dataclass
class Infrastructure:
    """The embedded broker and Postgres, or nothing when settings point at existing ones."""

    settings: Settings
    broker: EmbeddedBroker | None = None
    postgres: EmbeddedPostgres | None = None
    mail: MailCatcher | None = None  # where notify's email goes: .touchstone/mail/*.eml
    broker_port: int | None = None  # given: the broker listens here and advertises the settings'
    # bootstrap address, where something else (the fault suite's cuttable proxy) forwards to it

    def start(self) -> Settings:
        """Start what is embedded; the settings that reach it."""
        if not self.settings.embedded:
            return self.settings
        from touchstone.tools.dev.mail_catcher import MailCatcher

        workdir = self.settings.state_dir / "infra"
        shutil.rmtree(workdir, ignore_errors=True)  # the broker's log is in memory: start clean
        host, port = self.settings.kafka_bootstrap.split(",")[0].rsplit(":", 1)
        if self.broker_port is None:
            self.broker = EmbeddedBroker(workdir, port=int(port), host=host)
        else:
            advertised = f"{host}:{port}"
            self.broker = EmbeddedBroker(workdir, self.broker_port, host, advertised)
        self.broker.start()
        self.postgres = EmbeddedPostgres(workdir, port=_port_of(self.settings.database_url))
        self.postgres.start()
        mailbox = self.settings.state_dir / "mail"
        shutil.rmtree(mailbox, ignore_errors=True)
        self.mail = MailCatcher(self.settings.smtp_host, self.settings.smtp_port, mailbox).start()
        bootstrap = self.broker.advertised or self.broker.bootstrap
        return replace(self.settings, kafka_bootstrap=bootstrap, database_url=self.postgres.url)

    def stop(self) -> None:
        """Stop what was started, Postgres first."""
        if self.mail:
            self.mail.stop()
        if self.postgres:
            self.postgres.stop()
        if self.broker:
            self.broker.stop()


def _port_of(url: str) -> int:
    from psycopg.conninfo import conninfo_to_dict

    return int(conninfo_to_dict(url).get("port") or 5432)


@dataclass
class ServiceProcesses:
    """The four services, each its own process, logging to the state folder; a service may run
    more workers (`start_worker`), which share its topics' partitions through its consumer group."""

    settings: Settings
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    addresses: dict[str, str] = field(default_factory=dict)  # each process's gRPC address

    def start(self, names: tuple[str, ...] = SERVICES) -> None:
        """Start the named services (not already running)."""
        for name in names:
            self._spawn(name, name, self.settings)

    def start_worker(self, name: str, worker: str, grpc_port: int, metrics_port: int = 0) -> None:
        """Start another worker of the named service, known as name/worker, serving gRPC (and,
        given a port, its metrics) on its own ports."""
        ports = {**self.settings.grpc_ports, name: grpc_port}
        metrics = {**self.settings.metrics_ports, name: metrics_port}
        http = {**self.settings.http_ports, name: 0}  # one HTTP port a service: its first worker's
        worker_settings = replace(
            self.settings, grpc_ports=ports, metrics_ports=metrics, http_ports=http
        )
        self._spawn(f"{name}/{worker}", name, worker_settings)

    def _spawn(self, key: str, name: str, settings: Settings) -> None:
        logs = self.settings.state_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **settings.as_env()}
        with (logs / f"{key.replace('/', '-')}.log").open("ab") as out:
            self.procs[key] = subprocess.Popen(
                [sys.executable, "-m", f"touchstone.{name}"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.addresses[key] = settings.grpc_address(name)

    def restart(
        self, key: str, sig: int = signal.SIGKILL, while_down: Callable[[], None] | None = None
    ) -> None:
        """Signal a process (kill -9 by default), wait for it to exit, call `while_down` if
        given (what it reads of the stopped process stands still), and start it again."""
        if key not in SERVICES:
            raise ValueError(f"{key}: restart starts a service's first worker only")
        proc = self.procs[key]
        proc.send_signal(sig)
        proc.wait(30)
        if while_down is not None:
            while_down()
        self._spawn(key, key, self.settings)

    def wait_until_serving(self, timeout: float = 60.0) -> None:
        """Block until every started process answers health SERVING."""
        for key, proc in list(self.procs.items()):  # a fault injection may start one meanwhile
            if proc.poll() is not None:
                raise RuntimeError(f"{key} exited with {proc.returncode}; see its log")
            wait_until_serving(self.addresses[key], timeout)

    def health(self) -> dict[str, str]:
        """Each service's health status."""
        return {n: health_status(self.settings.grpc_address(n)) for n in SERVICES}

    def stop(self, names: tuple[str, ...] | None = None, sig: int = signal.SIGTERM) -> None:
        """Stop services (all by default) and wait for them to exit."""
        for name in names or tuple(self.procs):
            proc = self.procs.pop(name, None)
            if proc is None or proc.poll() is not None:
                continue
            proc.send_signal(sig)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def with_dev_keys(settings: Settings) -> Settings:
    """With authentication on and no key set given: a development key set under the state
    folder, its JWKS for the services and its signing key for local clients."""
    if not settings.auth or settings.auth_keys_file is not None:
        return settings
    from touchstone.tools.ops.dev_keys import DevKeys

    keys = DevKeys(settings.state_dir / "keys").create()
    return replace(settings, auth_keys_file=keys.jwks, auth_signing_key=keys.signing_key)


class LocalStack:
    """Infrastructure + topics + schemas + services, started and stopped as one."""

    def __init__(self, settings: Settings, broker_port: int | None = None) -> None:
        self.infra = Infrastructure(settings, broker_port=broker_port)
        self.settings = settings
        self.services = ServiceProcesses(settings)

    def start(self, services: tuple[str, ...] = SERVICES) -> Settings:
        """Bring everything up; the settings every client should use."""
        try:
            self.settings = with_dev_keys(self.infra.start())
            ensure_topics(self.settings.kafka, ALL_TOPICS, self.settings.topic_partitions)
            migrate_all(self.settings)
            self.services = ServiceProcesses(self.settings)
            self.services.start(services)
            self.services.wait_until_serving()
        except BaseException:
            self.stop()
            raise
        return self.settings

    def stop(self) -> None:
        """Stop services, then infrastructure."""
        self.services.stop()
        self.infra.stop()

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
