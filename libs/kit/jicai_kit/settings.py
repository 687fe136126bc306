"""One settings class per service, read from the environment.

Refuses the development signing secret outside development so a demo
secret can never reach production.
"""
from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_SECRET = "jicai-development-secret-change-me-0123456789"


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    service_name: ClassVar[str]

    database_url: str
    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", validation_alias="KAFKA_BOOTSTRAP_SERVERS")
    auth_secret: SecretStr = Field(SecretStr(DEVELOPMENT_SECRET), validation_alias="JICAI_AUTH_SECRET")
    environment: Literal["development", "test", "production"] = Field("development", validation_alias="JICAI_ENV")
    run_workers: bool = Field(True, validation_alias="JICAI_RUN_WORKERS", description="run relay and consumers in the API process")
    workers_lock: str | None = Field(
        None, validation_alias="JICAI_WORKERS_LOCK",
        description="set by jicai-serve --workers N: of the N processes, the one holding this file's lock runs relay and consumers",
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
    handler_attempts: int = Field(
        3, ge=1, le=100, validation_alias="JICAI_CONSUMER_HANDLER_ATTEMPTS",
        description="tries of a handler failing for a reason of ours before its partition is parked",
    )
    processed_retention_days: int = Field(
        30, ge=8, le=3650, validation_alias="JICAI_PROCESSED_EVENTS_RETENTION_DAYS",
        description="days a consumer remembers an event id it handled; longer than Kafka's retention (7 days), "
        "so no redelivery Kafka can still make finds the id forgotten",
    )

    @model_validator(mode="after")
    def _no_placeholder_secret_in_production(self) -> ServiceSettings:
        secret = self.auth_secret.get_secret_value()
        if self.environment == "production" and (secret == DEVELOPMENT_SECRET or len(secret) < 32):
            raise ValueError("JICAI_AUTH_SECRET must be set to a private value of at least 32 characters in production")
        return self
