"""Each setting is declared once, on its field (`setting`, `per_service`), in a class for its
concern: reading the environment, handing it on to a child process and the configuration
guide's table all come from that declaration."""

from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import pytest

from touchstone.platform.runtime.env_reader import SettingError
from touchstone.platform.runtime.settings import CONCERNS, SERVICES, Settings
from touchstone.platform.runtime.settings.declared import declared
from touchstone.platform.runtime.settings.notify_channels import NotifyChannelSettings
from touchstone.tools.dev.settings_table import SECTIONS, default_shown, placed, variable_of


def test_every_field_names_its_variable() -> None:
    undeclared = [f.name for f in fields(Settings) if "env" not in f.metadata]
    assert undeclared == []
    variables = [f.metadata["env"] for f in fields(Settings)]
    assert len(variables) == len(set(variables))
    assert all(v.startswith("TOUCHSTONE_") for v in variables)


def other_value(f: Any, now: Any) -> str:
    """A value of the field's variable, in range, that differs from its default."""
    if f.type == "bool":
        return "0" if now else "1"
    if f.type == "int":
        return str(max(now + 1, int(f.metadata["low"] or 0) + 1))
    if f.type == "float":
        return str(now + 1.5)
    if f.type in ("Path", "Path | None"):
        return "/elsewhere/x"
    if f.metadata.get("choices"):
        return next(c for c in f.metadata["choices"] if c != now)
    return "something-else"


def test_each_variable_reaches_its_field() -> None:
    base = Settings()
    for f in fields(Settings):
        if f.metadata.get("per_service") or f.name in ("kafka_sasl_mechanism",):
            continue
        value = other_value(f, getattr(base, f.name))
        env = {"TOUCHSTONE_KAFKA_PLAINTEXT": "1", f.metadata["env"]: value}  # any broker
        for pair in ("KAFKA", "DATABASE"):  # a client certificate comes with its key
            if f.metadata["env"].startswith(f"TOUCHSTONE_{pair}_TLS_"):
                env |= {f"TOUCHSTONE_{pair}_TLS_CERT": "/c", f"TOUCHSTONE_{pair}_TLS_KEY": "/k"}
                env[f.metadata["env"]] = value
        if f.name == "max_touchpoint_bytes":  # at most half the record limit
            env[f.metadata["env"]] = "2048"
        if f.name == "webhook_url":
            env["TOUCHSTONE_WEBHOOK_SECRET"] = "s"
        if f.name == "kafka_security_protocol":
            env[f.metadata["env"]] = "SSL"
        read = Settings.from_env(env)
        assert getattr(read, f.name) != getattr(base, f.name), f.name


def test_per_service_variables_reach_their_service() -> None:
    read = Settings.from_env(
        {"TOUCHSTONE_JOURNEY_GRPC_PORT": "6000", "TOUCHSTONE_NOTIFY_ADDRESS": " notify:50054 "}
    )
    assert read.grpc_ports["journey"] == 6000 and read.grpc_ports["contacts"] == 50051
    assert read.service_addresses == {"notify": "notify:50054"}


def test_a_child_process_is_handed_every_setting_but_the_callers_token() -> None:
    told = replace(
        Settings(),
        kafka_sasl_password="pw",
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="PLAIN",
        kafka_sasl_username="touchstone",
        kafka_tls_ca=Path("/ca.pem"),
        batch_size=7,
        embedded=False,
        auth=False,
        grpc_ports={s: 7000 + n for n, s in enumerate(SERVICES)},
        service_addresses={"loyalty": "loyalty:50053"},
        token="the-callers",
        webhook_url="https://hooks.example/touchstone",
        webhook_secret="whsec_pw",
    )
    env = told.as_env()
    assert "TOUCHSTONE_TOKEN" not in env
    assert Settings.from_env(env) == replace(told, token="")
    assert "pw" not in repr(told)  # secrets stay out of logs (the SASL password, the webhook's)


def test_every_setting_says_what_it_means_and_the_guide_tables_it_as_declared() -> None:
    for cls in SECTIONS:
        undocumented = [f.name for f in declared(cls) if not f.metadata.get("doc")]
        assert undocumented == [], cls.__name__
    page = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    assert placed(page) == page  # `make generate` writes it
    for cls in SECTIONS:
        for f in declared(cls):
            assert variable_of(f) in page


def test_the_table_says_each_default_as_an_operator_reads_it() -> None:
    by_env = {f.metadata["env"]: f for cls in SECTIONS for f in declared(cls)}
    assert default_shown(by_env["TOUCHSTONE_AUTH"]) == "`1`"
    assert default_shown(by_env["TOUCHSTONE_{}_GRPC_PORT"]) == "`50051` … `50054`"
    assert default_shown(by_env["TOUCHSTONE_BATCH_WITHIN_S"]) == "`0.05`"
    assert default_shown(by_env["TOUCHSTONE_KAFKA_TLS_CERT"]) == "none"
    assert default_shown(by_env["TOUCHSTONE_KAFKA_TLS_CA"]) == "the system's CAs"
    assert variable_of(by_env["TOUCHSTONE_{}_ADDRESS"]) == (
        "`TOUCHSTONE_CONTACTS_ADDRESS` … `TOUCHSTONE_NOTIFY_ADDRESS`"
    )


def test_a_concern_is_a_settings_class_of_its_own_and_checks_itself() -> None:
    assert all(issubclass(Settings, cls) for cls in CONCERNS)
    assert len({f.metadata["env"] for cls in CONCERNS for f in declared(cls)}) == len(
        fields(Settings)
    )
    with pytest.raises(SettingError, match="TOUCHSTONE_WEBHOOK_SECRET is required"):
        NotifyChannelSettings(webhook_url="https://hooks.example/t")
    with pytest.raises(SettingError, match="TOUCHSTONE_WEBHOOK_SECRET is required"):
        Settings(webhook_url="https://hooks.example/t")
