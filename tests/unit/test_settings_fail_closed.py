"""Settings fail closed: a value a setting does not take stops the process with one line naming
the variable, what it holds and what it takes; nothing is guessed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from touchstone.platform.runtime.env_reader import SettingError
from touchstone.platform.runtime.settings import Settings, settings_from_env

REFUSED = [
    ("TOUCHSTONE_AUTH", "ture", "TOUCHSTONE_AUTH='ture' is not yes or no"),
    ("TOUCHSTONE_AUTH", "", "TOUCHSTONE_AUTH='' is not yes or no"),
    ("TOUCHSTONE_GRPC_PLAINTEXT", "maybe", "TOUCHSTONE_GRPC_PLAINTEXT='maybe' is not yes or no"),
    ("TOUCHSTONE_BATCH_SIZE", "lots", "TOUCHSTONE_BATCH_SIZE='lots' is not a whole number"),
    (
        "TOUCHSTONE_BATCH_SIZE",
        "0",
        "TOUCHSTONE_BATCH_SIZE='0' is out of range: it must be at least 1",
    ),
    ("TOUCHSTONE_BATCH_WITHIN_S", "soon", "TOUCHSTONE_BATCH_WITHIN_S='soon' is not a number"),
    ("TOUCHSTONE_BATCH_WITHIN_S", "nan", "TOUCHSTONE_BATCH_WITHIN_S='nan' is not a finite number"),
    ("TOUCHSTONE_RATE_CALLS", "-5", "TOUCHSTONE_RATE_CALLS='-5' is out of range"),
    ("TOUCHSTONE_SMTP_PORT", "70000", "TOUCHSTONE_SMTP_PORT='70000' is out of range"),
    ("TOUCHSTONE_JOURNEY_GRPC_PORT", "x", "TOUCHSTONE_JOURNEY_GRPC_PORT='x' is not a whole number"),
    ("TOUCHSTONE_CONSUMER", "kafka", "TOUCHSTONE_CONSUMER='kafka' is not one of 'aiokafka'"),
    ("TOUCHSTONE_LOG_LEVEL", "verbose", "TOUCHSTONE_LOG_LEVEL='verbose' is not one of 'debug'"),
    ("TOUCHSTONE_KAFKA_SECURITY_PROTOCOL", "TLS", "TOUCHSTONE_KAFKA_SECURITY_PROTOCOL='TLS'"),
    ("TOUCHSTONE_KAFKA_SASL_MECHANISM", "GSSAPI", "TOUCHSTONE_KAFKA_SASL_MECHANISM='GSSAPI'"),
    ("TOUCHSTONE_AUTH_MAX_TOKEN_HOURS", "0", "TOUCHSTONE_AUTH_MAX_TOKEN_HOURS='0' is out of range"),
]


@pytest.mark.parametrize(("name", "value", "said"), REFUSED)
def test_a_value_the_setting_does_not_take_names_the_variable(
    name: str, value: str, said: str
) -> None:
    with pytest.raises(SettingError) as refused:
        Settings.from_env({name: value})
    assert str(refused.value).startswith(said)
    with pytest.raises(SystemExit) as stopped:
        settings_from_env({name: value})
    assert str(stopped.value).startswith(f"touchstone: setting refused: {said}")


@pytest.mark.parametrize(
    ("value", "auth"),
    [
        ("1", True),
        ("TRUE", True),
        (" yes ", True),
        ("on", True),
        ("0", False),
        ("False", False),
        ("no", False),
        ("OFF", False),
    ],
)
def test_a_yes_no_setting_takes_the_usual_words_in_any_case(value: str, auth: bool) -> None:
    assert Settings.from_env({"TOUCHSTONE_AUTH": value}).auth is auth


def test_choices_and_numbers_are_read_as_they_are_meant() -> None:
    settings = Settings.from_env(
        {
            "TOUCHSTONE_KAFKA_SECURITY_PROTOCOL": "sasl_ssl",
            "TOUCHSTONE_KAFKA_SASL_MECHANISM": "scram-sha-512",
            "TOUCHSTONE_KAFKA_SASL_USERNAME": "touchstone",
            "TOUCHSTONE_KAFKA_SASL_PASSWORD": "s3cret",
            "TOUCHSTONE_KAFKA_BOOTSTRAP": "k:9093",
            "TOUCHSTONE_CONSUMER": "Faust",
            "TOUCHSTONE_LOG_LEVEL": "INFO",
            "TOUCHSTONE_INGEST_MAX_LAG": "250_000",
            "TOUCHSTONE_AUTH_MAX_TOKEN_HOURS": "1.5",
        }
    )
    assert (settings.kafka_security_protocol, settings.kafka_sasl_mechanism) == (
        "SASL_SSL",
        "SCRAM-SHA-512",
    )
    assert (settings.consumer, settings.log_level) == ("faust", "info")
    assert (settings.ingest_max_lag, settings.auth_max_token_hours) == (250_000, 1.5)
    assert Settings.from_env(settings.as_env()) == settings


def test_a_service_started_with_a_typo_stops_with_one_line_not_a_traceback() -> None:
    env = {"TOUCHSTONE_AUTH": "ture", "PATH": "/usr/bin:/bin"}
    env |= {k: v for k, v in os.environ.items() if k == "PYTHONPATH"}
    ran = subprocess.run(
        [sys.executable, "-m", "touchstone.journey"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 1
    assert ran.stderr.strip() == (
        "touchstone: setting refused: TOUCHSTONE_AUTH='ture' is not yes or no: "
        "use 1/0, true/false, yes/no or on/off"
    )


def test_the_default_settings_survive_as_env() -> None:
    assert Settings.from_env(Settings().as_env()) == Settings()
