"""Kafka and PostgreSQL transport settings: encrypted beyond this machine or refused at once,
and every Kafka client configured from one place."""

from __future__ import annotations

import ssl
from dataclasses import replace
from pathlib import Path

import pytest
from faust.auth import SASLCredentials, SSLCredentials
from psycopg.conninfo import conninfo_to_dict

from tests.pki import Pki, make_pki
from touchstone.platform.messaging.kafka_connection import KafkaConnection
from touchstone.platform.runtime.settings import Settings
from touchstone.platform.security.data_transport import PlaintextDataRefused
from touchstone.platform.security.hosts import PlaintextRefused

REMOTE_KAFKA = {"TOUCHSTONE_KAFKA_BOOTSTRAP": "kafka-0.kafka:9093,kafka-1.kafka:9093"}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def test_plaintext_kafka_beyond_this_machine_is_refused_naming_the_settings() -> None:
    with pytest.raises(PlaintextRefused) as refused:
        Settings.from_env(REMOTE_KAFKA)
    message = str(refused.value)
    assert "kafka-0.kafka:9093" in message
    assert "TOUCHSTONE_KAFKA_SECURITY_PROTOCOL=SSL" in message
    assert "TOUCHSTONE_KAFKA_PLAINTEXT=1" in message


@pytest.mark.parametrize("bootstrap", ["127.0.0.1:9092", "localhost:9092", "[::1]:9092", "::1"])
def test_plaintext_kafka_on_loopback_is_the_local_stack_and_allowed(bootstrap: str) -> None:
    assert Settings.from_env({"TOUCHSTONE_KAFKA_BOOTSTRAP": bootstrap}).kafka.ssl_context() is None


@pytest.mark.parametrize(
    "bootstrap",
    [
        "127.0.0.1:9092,kafka-1:9092",  # one remote broker in the list is enough
        "::1:9092",  # the clients read this as the IPv6 host ::1:9092, not ::1 at 9092
        "[2001:db8::1]:9092",
    ],
)
def test_plaintext_kafka_to_any_host_beyond_loopback_is_refused(bootstrap: str) -> None:
    with pytest.raises(PlaintextRefused):
        Settings(kafka_bootstrap=bootstrap)


def test_a_connection_made_outside_the_settings_refuses_plaintext_too() -> None:
    with pytest.raises(PlaintextRefused):  # a producer's own publisher, say
        KafkaConnection("kafka.example.com:9092")
    assert KafkaConnection("kafka.example.com:9092", plaintext_ok=True).servers


def test_plaintext_kafka_is_allowed_where_the_operator_says_the_network_encrypts() -> None:
    settings = Settings.from_env(REMOTE_KAFKA | {"TOUCHSTONE_KAFKA_PLAINTEXT": "1"})
    assert settings.kafka.client_config()["security_protocol"] == "PLAINTEXT"


def test_tls_kafka_verifies_the_brokers_against_the_ca_and_presents_the_client_certificate(
    pki: Pki,
) -> None:
    settings = Settings.from_env(
        REMOTE_KAFKA
        | {
            "TOUCHSTONE_KAFKA_SECURITY_PROTOCOL": "ssl",
            "TOUCHSTONE_KAFKA_TLS_CA": str(pki.ca),
            "TOUCHSTONE_KAFKA_TLS_CERT": str(pki.client_cert),
            "TOUCHSTONE_KAFKA_TLS_KEY": str(pki.client_key),
        }
    )
    config = settings.kafka.client_config(linger_ms=5)
    assert config["bootstrap_servers"] == ["kafka-0.kafka:9093", "kafka-1.kafka:9093"]
    assert (config["security_protocol"], config["linger_ms"]) == ("SSL", 5)
    context = config["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert [c["subject"] for c in context.get_ca_certs()] == [
        ((("commonName", "touchstone-test-ca"),),)
    ]
    assert "sasl_mechanism" not in config
    assert isinstance(settings.kafka.faust_credentials(), SSLCredentials)


def test_sasl_over_tls_hands_every_client_the_mechanism_and_credentials() -> None:
    settings = Settings.from_env(
        REMOTE_KAFKA
        | {
            "TOUCHSTONE_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "TOUCHSTONE_KAFKA_SASL_MECHANISM": "scram-sha-512",
            "TOUCHSTONE_KAFKA_SASL_USERNAME": "touchstone-journey",
            "TOUCHSTONE_KAFKA_SASL_PASSWORD": "s3cret",
        }
    )
    config = settings.kafka.client_config()
    assert config["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (config["sasl_plain_username"], config["sasl_plain_password"]) == (
        "touchstone-journey",
        "s3cret",
    )
    assert isinstance(config["ssl_context"], ssl.SSLContext)  # the system's CAs
    credentials = settings.kafka.faust_credentials()
    assert isinstance(credentials, SASLCredentials)
    assert credentials.mechanism.value == "SCRAM-SHA-512" and credentials.ssl_context is not None
    assert "s3cret" not in repr(settings) and "s3cret" not in repr(settings.kafka)
    assert Settings.from_env(settings.as_env()) == settings


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"TOUCHSTONE_KAFKA_SECURITY_PROTOCOL": "TLS"}, "is not one of"),
        ({"TOUCHSTONE_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "SASL_MECHANISM"),
        (
            {
                "TOUCHSTONE_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                "TOUCHSTONE_KAFKA_SASL_MECHANISM": "SCRAM-SHA-256",
                "TOUCHSTONE_KAFKA_SASL_USERNAME": "touchstone",
            },
            "SASL_PASSWORD",
        ),
        (
            {"TOUCHSTONE_KAFKA_SECURITY_PROTOCOL": "SSL", "TOUCHSTONE_KAFKA_TLS_CERT": "/c.pem"},
            "TOUCHSTONE_KAFKA_TLS_CERT and TOUCHSTONE_KAFKA_TLS_KEY go together",
        ),
        (
            {"TOUCHSTONE_KAFKA_PLAINTEXT": "1", "TOUCHSTONE_DATABASE_TLS_KEY": "/k.pem"},
            "TOUCHSTONE_DATABASE_TLS_CERT and",
        ),
    ],
)
def test_incomplete_kafka_or_database_security_is_refused(
    env: dict[str, str], complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint):
        Settings.from_env(REMOTE_KAFKA | env)


def test_plaintext_postgres_beyond_this_machine_is_refused_before_it_is_connected_to() -> None:
    with pytest.raises(PlaintextDataRefused, match="TOUCHSTONE_DATABASE_TLS_CA"):
        _conninfo("postgresql://touchstone@db.internal:5432/touchstone")


@pytest.mark.parametrize(
    ("url", "environ"),
    [
        ("postgresql://touchstone@db.internal/touchstone?sslmode=prefer", {}),  # falls back
        ("host=db.internal dbname=touchstone sslmode=require", {}),  # encrypted, unverified
        # a root certificate libpq cannot read is skipped under require: unverified too
        ("host=db.internal dbname=touchstone sslmode=require sslrootcert=/nonexistent/ca.pem", {}),
        ("postgresql://db.internal/touchstone", {"PGSSLMODE": "require", "PGSSLROOTCERT": "/no"}),
        ("host=/var/run/postgresql,db.internal dbname=touchstone", {}),  # one host is remote
        ("host=localhost hostaddr=203.0.113.5 dbname=touchstone", {}),  # libpq goes to hostaddr
        ("postgresql:///touchstone", {"PGHOST": "db.internal"}),  # libpq fills the host in
        ("postgresql:///touchstone", {"PGHOSTADDR": "203.0.113.5"}),
        ("service=touchstone", {}),  # the service file may name any host
        ("postgresql:///touchstone", {"PGSERVICE": "touchstone"}),
    ],
)
def test_postgres_that_libpq_would_reach_in_clear_or_unverified_is_refused(
    url: str, environ: dict[str, str]
) -> None:
    with pytest.raises(PlaintextDataRefused):
        Settings(database_url=url).database_connection.conninfo(environ)


def test_libpqs_own_variables_may_turn_verification_on(pki: Pki) -> None:
    settings = Settings(database_url="postgresql://touchstone@db.internal/touchstone")
    assert settings.database_connection.conninfo(environ={"PGSSLMODE": "verify-full"})
    assert settings.database_connection.conninfo(
        environ={"PGSSLMODE": "require", "PGSSLROOTCERT": str(pki.ca)}
    )


def _conninfo(url: str) -> str:
    return Settings(database_url=url).database_connection.conninfo(environ={})


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://touchstone@127.0.0.1:15432/touchstone",
        "postgresql://touchstone@localhost/touchstone",
        "postgresql:///touchstone?host=/var/run/postgresql",
        "postgresql:///touchstone",
        "postgresql://touchstone@db.internal/touchstone?sslmode=verify-full",
        "host=db.internal dbname=touchstone sslmode=verify-ca",
        "host=db.internal dbname=touchstone sslmode=require sslrootcert=system",
    ],
)
def test_postgres_on_this_machine_or_verified_is_allowed(url: str) -> None:
    assert _conninfo(url) == url


def test_require_with_a_root_certificate_libpq_can_read_is_verified(pki: Pki) -> None:
    url = f"host=db.internal dbname=touchstone sslmode=require sslrootcert={pki.ca}"
    assert _conninfo(url) == url


def test_a_database_ca_turns_on_verify_full_with_the_client_certificate(pki: Pki) -> None:
    settings = Settings(
        database_url="postgresql://touchstone:pw@db.internal:5432/touchstone",
        database_tls_ca=pki.ca,
        database_tls_cert=pki.client_cert,
        database_tls_key=pki.client_key,
    )
    params = conninfo_to_dict(settings.database)
    assert params["sslmode"] == "verify-full" and params["host"] == "db.internal"
    assert (params["sslrootcert"], params["sslcert"], params["sslkey"]) == (
        str(pki.ca),
        str(pki.client_cert),
        str(pki.client_key),
    )
    assert (params["user"], params["password"]) == ("touchstone", "pw")


def test_plaintext_postgres_is_allowed_where_the_operator_says_the_network_encrypts() -> None:
    env = {"TOUCHSTONE_DATABASE_URL": "postgresql://db/x", "TOUCHSTONE_DATABASE_PLAINTEXT": "1"}
    assert Settings.from_env(env).database == "postgresql://db/x"


def test_a_connection_string_that_is_not_libpqs_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="not a libpq URL"):
        _conninfo("postgresql://db/x?sslmode")


def test_changing_settings_checks_them_again() -> None:
    with pytest.raises(PlaintextRefused):
        replace(Settings(), kafka_bootstrap="kafka:9092")


def test_the_plain_connection_needs_nothing_but_the_brokers() -> None:
    kafka = KafkaConnection("b1:9092, b2:9092", plaintext_ok=True)
    assert kafka.client_config() == {
        "bootstrap_servers": ["b1:9092", "b2:9092"],
        "security_protocol": "PLAINTEXT",
    }
    assert kafka.faust_broker() == "kafka://b1:9092;kafka://b2:9092"
    assert kafka.faust_credentials() is None


def test_a_missing_ca_file_is_an_error_when_the_client_starts(tmp_path: Path) -> None:
    kafka = KafkaConnection("b:9093", security_protocol="SSL", tls_ca=tmp_path / "absent.pem")
    with pytest.raises(FileNotFoundError):
        kafka.client_config()
