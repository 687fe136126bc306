"""One settings class per service, read from the environment.

Any setting can instead be read from a file: ``<VARIABLE>_FILE`` names the
file (Docker secrets: ``JICAI_ORDERS_DATABASE_URL_FILE=/run/secrets/orders-db-url``,
``KAFKA_PASSWORD_FILE=/run/secrets/kafka-orders``); a trailing newline is dropped.
``JICAI_DATABASE_PASSWORD_FILE`` fills the password into the database URL.
In production the service refuses to start with development keys or without
its public keys, so a demo key can never reach production.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict, SettingsError
from sqlalchemy.engine import make_url

from jicai_events.kafka import FETCH_MAX_WAIT_MS, SESSION_TIMEOUT_MS, KafkaConnection
from jicai_kit.keys import DEVELOPMENT_KID_PREFIX, KeyFileError, load_public_keys


class SecretsFromFiles(BaseSettings):
    """Settings whose every variable may come from a file instead (``<VARIABLE>_FILE``, see ``FileSettings``)."""

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, FileSettings(settings_cls), dotenv_settings, file_secret_settings


class KafkaSettings(SecretsFromFiles):
    """How to reach Kafka and who we are to it; services and the clock scheduler share it."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", validation_alias="KAFKA_BOOTSTRAP_SERVERS")
    kafka_security_protocol: Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL", "SSL"] = Field(
        "PLAINTEXT", validation_alias="KAFKA_SECURITY_PROTOCOL", description="SASL_SSL (or SASL_PLAINTEXT on a private network) in production",
    )
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = Field(
        "SCRAM-SHA-512", validation_alias="KAFKA_SASL_MECHANISM",
    )
    kafka_username: str | None = Field(None, validation_alias="KAFKA_USERNAME", description="this service's Kafka user")
    kafka_password: SecretStr | None = Field(None, validation_alias="KAFKA_PASSWORD", description="read it from KAFKA_PASSWORD_FILE")
    kafka_ssl_cafile: str | None = Field(None, validation_alias="KAFKA_SSL_CAFILE", description="CA of the brokers' certificates (SSL)")

    def kafka(self) -> KafkaConnection:
        password = self.kafka_password.get_secret_value() if self.kafka_password else None
        return KafkaConnection(
            self.kafka_bootstrap_servers, self.kafka_security_protocol, self.kafka_sasl_mechanism,
            self.kafka_username, password, self.kafka_ssl_cafile,
        )


class ServiceSettings(KafkaSettings):

    service_name: ClassVar[str]

    database_url: str
    database_password: SecretStr | None = Field(
        None, validation_alias="JICAI_DATABASE_PASSWORD", description="replaces the password of the database URL; read it from a file",
    )
    auth_public_keys: Path | None = Field(
        None, validation_alias="JICAI_AUTH_PUBLIC_KEYS",
        description="JWKS file, or directory of public JWK/PEM files, of the keys tokens may be signed with (several during rotation)",
    )
    auth_revoked_tokens: Path | None = Field(
        None, validation_alias="JICAI_AUTH_REVOKED_TOKENS_FILE", description="token ids (jti) refused before they expire, one a line",
    )
    auth_leeway_seconds: int = Field(30, ge=0, le=300, validation_alias="JICAI_AUTH_LEEWAY_SECONDS", description="clock skew tolerated")
    environment: Literal["development", "test", "production"] = Field("development", validation_alias="JICAI_ENV")
    run_workers: bool = Field(True, validation_alias="JICAI_RUN_WORKERS", description="run relay and consumers in the API process")
    workers_lock: str | None = Field(
        None, validation_alias="JICAI_WORKERS_LOCK",
        description="set by jicai-serve --workers N: of the N processes, the one holding this file's lock runs relay and consumers",
    )
    workers_supervisor: int | None = Field(
        None, validation_alias="JICAI_WORKERS_SUPERVISOR",
        description="set by jicai-serve --workers N: its own pid; each of the N processes stops when that process ends",
    )
    future_date_margin_days: int = Field(
        1, ge=0, le=366, validation_alias="JICAI_FUTURE_DATE_MARGIN_DAYS",
        description="a fact may be dated at most this many days after today in Asia/Shanghai (clock skew, callers ahead of China's date)",
    )
    business_today: date | None = Field(
        None, validation_alias="JICAI_BUSINESS_TODAY",
        description="today for the future-date check instead of the wall clock: tests and demos that replay a period ahead of it",
    )
    max_request_bytes: int = Field(
        2_000_000, ge=1024, validation_alias="JICAI_MAX_REQUEST_BYTES", description="a larger request body is refused with 413"
    )
    kafka_session_timeout_ms: int = Field(
        SESSION_TIMEOUT_MS, ge=1000, le=300_000, validation_alias="JICAI_KAFKA_SESSION_TIMEOUT_MS",
        description="how long a consumer group waits for a silent member (a killed process) before its partitions move to "
        "the others; it heartbeats every 3/10 of it. The brokers refuse less than their group.min.session.timeout.ms "
        "(6 s by default; the dev stack's broker 1 s, the tests use 3 s)",
    )
    kafka_fetch_max_wait_ms: int = Field(
        FETCH_MAX_WAIT_MS, ge=100, le=30_000, validation_alias="JICAI_KAFKA_FETCH_MAX_WAIT_MS",
        description="how long the broker holds an idle consumer's fetch (a record ends it at once): longer, fewer idle "
        "requests; but a partition resumed or newly assigned is read only after the fetch in flight returns, up to this "
        "long. Below aiokafka's request timeout (40 s)",
    )
    handler_attempts: int = Field(
        3, ge=1, le=100, validation_alias="JICAI_CONSUMER_HANDLER_ATTEMPTS",
        description="tries of a handler failing for a reason of ours before its partition is parked",
    )
    processed_retention_days: int = Field(
        30, ge=8, le=3650, validation_alias="JICAI_PROCESSED_EVENTS_RETENTION_DAYS",
        description="days a consumer remembers an event id it handled; longer than Kafka's retention (7 days), "
        "so no redelivery Kafka can still make finds the id forgotten",
    )

    log_format: Literal["json", "text"] = Field(
        "json", validation_alias="JICAI_LOG_FORMAT",
        description="json: one object a line (request_id, correlation_id, …) for jq and log shippers; text: plain lines to read locally",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", validation_alias="JICAI_LOG_LEVEL")
    log_handled_events: bool = Field(
        True, validation_alias="JICAI_LOG_HANDLED_EVENTS",
        description="a line per event a consumer handled, under the event's correlation id; false mutes them where every microsecond per event counts",
    )

    @model_validator(mode="after")
    def _database_password(self) -> ServiceSettings:
        if self.database_password is not None:
            url = make_url(self.database_url).set(password=self.database_password.get_secret_value())
            self.database_url = url.render_as_string(hide_password=False)
        return self

    @model_validator(mode="after")
    def _production_keys(self) -> ServiceSettings:
        if self.environment != "production":
            return self
        if self.auth_public_keys is None:
            raise ValueError("JICAI_AUTH_PUBLIC_KEYS must name the platform's public token keys in production")
        try:
            kids = load_public_keys(self.auth_public_keys)
        except KeyFileError as exc:
            raise ValueError(str(exc)) from exc
        if development := sorted(k for k in kids if k.startswith(DEVELOPMENT_KID_PREFIX)):
            raise ValueError(f"development token keys {development} are refused in production (JICAI_AUTH_PUBLIC_KEYS)")
        return self


class FileSettings(EnvSettingsSource):
    """``<VARIABLE>_FILE``: the value of ``<VARIABLE>`` read from a file (Docker and Kubernetes secrets).

    Both forms at once is a mistake we refuse rather than guess."""

    def __call__(self) -> dict[str, Any]:
        self._read: dict[str, tuple[str, str]] = {}
        for field_name, field in self.settings_cls.model_fields.items():
            alias = field.validation_alias if isinstance(field.validation_alias, str) else None
            for name in filter(None, (alias, f"{self.env_prefix}{field_name}")):
                path = self.env_vars.get(f"{name}_FILE".lower())
                if path is None:
                    continue
                if name.lower() in self.env_vars:
                    raise SettingsError(f"both {name} and {name}_FILE are set; use one")
                try:
                    self._read[field_name] = (Path(path).read_text().removesuffix("\n"), name)
                except OSError as exc:
                    raise SettingsError(f"{name}_FILE: cannot read {path}: {exc.strerror}") from exc
                break
        return super().__call__()

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        value, name = self._read.get(field_name, (None, field_name))
        return value, name, False
