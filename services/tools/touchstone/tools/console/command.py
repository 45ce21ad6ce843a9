"""`touchstone console`: the journey map, the recovery board, customers and control figures in
a browser; on 127.0.0.1 by default, or wherever TOUCHSTONE_CONSOLE_* say (behind TLS)."""

from __future__ import annotations

import argparse
import os
import signal
import threading
from dataclasses import replace
from typing import TYPE_CHECKING

from touchstone.platform.runtime.settings import Settings
from touchstone.tools.console.exposure import DEFAULT_PORT, ConsoleSettings

if TYPE_CHECKING:
    from touchstone.tools.console.server import Console


def start_console(settings: Settings, port: int) -> Console | None:
    """The console, started on 127.0.0.1:port; None (and why, printed) if the port is taken."""
    from touchstone.tools.console.server import Console

    try:
        console = Console(settings, port=port).start()
    except OSError as error:
        print(f"console   not started: 127.0.0.1:{port}: {error.strerror}", flush=True)
        return None
    print(f"console   {console.url}   (sign in with a token; see docs/console.md)", flush=True)
    return console


def cmd_console(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the console until Ctrl-C or SIGTERM (the services must be running)."""
    from touchstone.tools.console.server import Console

    chosen = ConsoleSettings.from_env(os.environ)
    chosen = replace(chosen, host=args.host or chosen.host, port=args.port or chosen.port)
    try:
        console = Console(settings, chosen.host, chosen.port, chosen).start()
    except ValueError as refused:
        print(f"console will not start: {refused}", flush=True)
        return 2
    print(f"console on {chosen.url or console.url}; Ctrl-C stops it", flush=True)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())  # a container being stopped
    try:
        while not stopping.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        console.stop()
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register `touchstone console`."""
    console = sub.add_parser("console", help=cmd_console.__doc__)
    console.add_argument(
        "--port",
        type=int,
        default=0,
        help=f"the port (default TOUCHSTONE_CONSOLE_PORT, else {DEFAULT_PORT})",
    )
    console.add_argument(
        "--host",
        default="",
        help="the address to bind (default TOUCHSTONE_CONSOLE_HOST, else 127.0.0.1); beyond "
        "loopback TOUCHSTONE_CONSOLE_URL must be its https:// address",
    )
    console.set_defaults(func=cmd_console)
