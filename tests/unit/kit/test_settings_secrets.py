"""Secrets come from files (Docker secrets) or the environment; production refuses development keys."""
from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from jicai_events.kafka import KafkaConnection
from jicai_kit.keys import SigningKey, development_key_pair, write_public_keys
from jicai_kit.settings import KafkaSettings
from jicai_orders.settings import Settings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("JICAI_AUTH_PUBLIC_KEYS", "JICAI_ENV", "JICAI_ORDERS_DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"):
        monkeypatch.delenv(name, raising=False)


def secret(tmp_path: Path, name: str, value: str) -> str:
    path = tmp_path / name
    path.write_text(value + "\n")  # as `docker secret create` and editors leave it
    return str(path)


def test_the_database_url_or_its_password_is_read_from_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JICAI_ORDERS_DATABASE_URL_FILE", secret(tmp_path, "url", "postgresql+psycopg://orders@db:5432/orders"))
    assert Settings().database_url == "postgresql+psycopg://orders@db:5432/orders"
    monkeypatch.setenv("JICAI_DATABASE_PASSWORD_FILE", secret(tmp_path, "password", "p@ss/word:1"))
    assert Settings().database_url == "postgresql+psycopg://orders:p%40ss%2Fword%3A1@db:5432/orders"


def test_a_setting_given_both_directly_and_as_a_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JICAI_ORDERS_DATABASE_URL", "postgresql+psycopg://orders@db/orders")
    monkeypatch.setenv("JICAI_ORDERS_DATABASE_URL_FILE", secret(tmp_path, "url", "postgresql+psycopg://other@db/orders"))
    with pytest.raises(ValueError, match="both JICAI_ORDERS_DATABASE_URL and JICAI_ORDERS_DATABASE_URL_FILE are set"):
        Settings()
    monkeypatch.delenv("JICAI_ORDERS_DATABASE_URL")
    monkeypatch.setenv("JICAI_ORDERS_DATABASE_URL_FILE", str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="JICAI_ORDERS_DATABASE_URL_FILE: cannot read"):
        Settings()


def test_kafka_clients_authenticate_with_scram_from_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka:9094")
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("KAFKA_USERNAME", "orders")
    monkeypatch.setenv("KAFKA_PASSWORD_FILE", secret(tmp_path, "kafka-orders", "kafka-secret"))
    assert KafkaSettings().kafka().client_options() == {
        "bootstrap_servers": "kafka:9094", "security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "orders", "sasl_plain_password": "kafka-secret",
    }
    assert "kafka-secret" not in repr(KafkaSettings()), "the password is a SecretStr in the settings"
    with pytest.raises(ValueError, match="needs a username and a password"):
        KafkaConnection("kafka:9094", "SASL_SSL").client_options()
    assert KafkaConnection("127.0.0.1:9092").client_options() == {"bootstrap_servers": "127.0.0.1:9092", "security_protocol": "PLAINTEXT"}


def test_production_refuses_to_start_with_development_keys_or_none(tmp_path: Path) -> None:
    url = "postgresql+psycopg://orders@db/orders"
    with pytest.raises(ValidationError, match="JICAI_AUTH_PUBLIC_KEYS must name the platform's public token keys in production"):
        Settings(database_url=url, environment="production")
    _, development = development_key_pair(tmp_path / "dev")
    with pytest.raises(ValidationError, match=r"development token keys \['dev-[0-9a-f]{8}'\] are refused in production"):
        Settings(database_url=url, environment="production", auth_public_keys=development)
    production = tmp_path / "public-keys.json"
    write_public_keys(production, [SigningKey.generate("platform-2026-11")])
    assert Settings(database_url=url, environment="production", auth_public_keys=production).auth_public_keys == production
    assert Settings(database_url=url, environment="development", auth_public_keys=development).auth_public_keys == development
