"""How notify reaches customers and the operator's systems, and how often its clock looks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from touchstone.platform.runtime.env_reader import SettingError
from touchstone.platform.runtime.settings.declared import setting


@dataclass(frozen=True)
class NotifyChannelSettings:
    """Email, webhooks, deliveries and notify's clock (TOUCHSTONE_SMTP_*, _WEBHOOK_*, ...)."""

    sweep_every_s: float = setting(
        "TOUCHSTONE_SWEEP_EVERY_S",
        1.0,
        low=0.01,
        doc="how often notify's clock tells late steps, escalates them to the duty manager and "
        "closes lost cases",
    )
    smtp_host: str = setting(
        "TOUCHSTONE_SMTP_HOST",
        "127.0.0.1",
        doc="where notify sends email (the local stack's mail catcher by default); beyond this "
        "machine always over STARTTLS",
    )
    smtp_port: int = setting(
        "TOUCHSTONE_SMTP_PORT", 1025, low=1, high=65_535, doc="the mail server's port"
    )
    smtp_tls_ca: Path | None = setting(
        "TOUCHSTONE_SMTP_TLS_CA",
        None,
        shown="the system's CAs",
        doc="the CA the mail server's certificate is verified against (given: STARTTLS even on "
        "this machine)",
    )
    smtp_username: str = setting(
        "TOUCHSTONE_SMTP_USERNAME",
        "",
        doc="notify logs in to the mail server after STARTTLS as this user",
    )
    smtp_password: str = setting(
        "TOUCHSTONE_SMTP_PASSWORD",
        "",
        secret=True,
        doc="and with this password (from a Secret)",
    )
    smtp_plaintext: bool = setting(
        "TOUCHSTONE_SMTP_PLAINTEXT",
        False,
        doc="allow email in clear beyond this machine (a relay on a trusted network)",
    )
    mail_from: str = setting(
        "TOUCHSTONE_MAIL_FROM",
        "Touchstone <care@touchstone.local>",
        doc="the sender of notify's email",
    )
    webhook_url: str = setting(
        "TOUCHSTONE_WEBHOOK_URL",
        "",
        doc="where webhook deliveries go (`https`; `http` only to this machine); without it "
        "they are skipped, saying why",
    )
    webhook_secret: str = setting(
        "TOUCHSTONE_WEBHOOK_SECRET",
        "",
        secret=True,
        doc="the Standard Webhooks secret that signs them (`whsec_` + base64 of at least 32 "
        "bytes; required with the URL)",
    )
    delivery_lease_s: float = setting(
        "TOUCHSTONE_DELIVERY_LEASE_S",
        30.0,
        low=1,
        doc="how long an attempt may be in flight before a crash is assumed and it is made "
        "again, under the same key",
    )
    messages_per_day: int = setting(
        "TOUCHSTONE_MESSAGES_PER_DAY",
        3,
        doc="emails one customer gets in a day (their time zone), at most",
    )

    def __post_init__(self) -> None:
        if self.webhook_url and not self.webhook_secret:
            raise SettingError("TOUCHSTONE_WEBHOOK_SECRET is required with TOUCHSTONE_WEBHOOK_URL")
