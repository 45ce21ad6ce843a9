"""Where the console is reached, and so what it answers: the address it binds, the host names
browsers use for it, and whether they come over TLS (its cookie is then Secure).

On loopback (`make run`, `touchstone console`) nothing needs saying. Anywhere else the cookie
carries a bearer token, so the console refuses to start unless its public address is https
(TOUCHSTONE_CONSOLE_URL: TLS ends at the ingress or proxy in front of it) or the operator says
plaintext is fine there (TOUCHSTONE_CONSOLE_PLAINTEXT=1: compose, where the browser is on the
same machine).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from touchstone.platform.runtime.env_reader import EnvReader, SettingError
from touchstone.platform.runtime.settings import Settings
from touchstone.platform.runtime.settings.declared import env_names, setting
from touchstone.platform.security.hosts import is_loopback
from touchstone.tools.console.oidc import OidcSettings

DEFAULT_PORT = 8080
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


@dataclass(frozen=True)
class ConsoleSettings:
    """The console's own TOUCHSTONE_CONSOLE_* settings."""

    host: str = setting(
        "TOUCHSTONE_CONSOLE_HOST",
        "127.0.0.1",
        doc="where `touchstone console` listens (`--host` overrides it)",
    )
    port: int = setting(
        "TOUCHSTONE_CONSOLE_PORT",
        DEFAULT_PORT,
        high=65_535,
        doc="the port it listens on (`--port` overrides it)",
    )
    url: str = setting(
        "TOUCHSTONE_CONSOLE_URL",
        "",
        doc="the console's address as browsers reach it (`https://…` behind your TLS ingress "
        "or proxy): the host name it answers, and its cookie `Secure`",
    )
    allowed_hosts: tuple[str, ...] = setting(
        "TOUCHSTONE_CONSOLE_ALLOWED_HOSTS",
        (),
        doc="more `Host` names the console answers (comma-separated, `name` or `name:port`); "
        "on loopback it answers its loopback names",
    )
    plaintext: bool = setting(
        "TOUCHSTONE_CONSOLE_PLAINTEXT",
        False,
        doc="let the console serve plaintext beyond loopback (compose, where the browser is on "
        "the same machine)",
    )
    oidc: OidcSettings | None = None  # sign-in at the organisation's identity provider

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ConsoleSettings:
        read, named = EnvReader(env), env_names(cls)
        url = env.get(named["url"], "").strip().rstrip("/")
        if url and (urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc):
            raise SettingError(
                f"{named['url']}={url!r} is not an address: give "
                f"https://<host>[:port] as browsers reach the console"
            )
        allowed = env.get(named["allowed_hosts"], "")
        return cls(
            host=env.get(named["host"], cls.host),
            port=read.integer(named["port"], DEFAULT_PORT, high=65_535),
            url=url,
            allowed_hosts=tuple(h.strip().lower() for h in allowed.split(",") if h.strip()),
            plaintext=read.flag(named["plaintext"], False),
            oidc=OidcSettings.from_env(env),
        )


@dataclass(frozen=True)
class Exposure:
    """The Host names the console answers, and whether its cookie is Secure."""

    hosts: frozenset[str]
    secure: bool
    loopback: bool  # bound to loopback: its own names with its port are answered too

    @classmethod
    def of(cls, settings: Settings, host: str, console: ConsoleSettings | None = None) -> Exposure:
        """The exposure of a console bound to host; ValueError if it would be plaintext beyond
        loopback without being told that is fine."""
        console = console or ConsoleSettings()
        secure = console.url.startswith("https://")
        loopback = is_loopback(host)
        if not (loopback or secure or console.plaintext):
            raise ValueError(
                f"the console would serve {host} in plaintext, its cookie a bearer token: set "
                f"TOUCHSTONE_CONSOLE_URL to its https:// address behind your TLS ingress or "
                f"proxy, or TOUCHSTONE_CONSOLE_PLAINTEXT=1 where the browser is on this machine"
            )
        hosts = set(console.allowed_hosts)
        if console.url:
            hosts.add(urlsplit(console.url).netloc.lower())
        return cls(frozenset(hosts), secure, loopback)

    def on_port(self, port: int) -> Exposure:
        """The same, bound to port: on loopback its own names with that port are answered."""
        if not self.loopback:
            return self
        return replace(self, hosts=self.hosts | {f"{name}:{port}" for name in LOOPBACK_NAMES})

    def serves(self, host_header: str) -> bool:
        return host_header.lower() in self.hosts

    def misdirected(self) -> str:
        """What a request with another Host name is told."""
        names = sorted(self.hosts)
        if not names:
            return "this console answers no host name: set TOUCHSTONE_CONSOLE_URL"
        return f"use {' or '.join(names[:3])}"
