"""The console's settings, read from the environment (``JICAI_CONSOLE_*``, the services' URLs, the signing secret)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from jicai_kit.settings import DEVELOPMENT_SECRET

DEVELOPMENT_SESSION_SECRET = "jicai-console-development-session-secret-0123456789"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    database_url: str = Field(validation_alias="JICAI_CONSOLE_DATABASE_URL", description="the console's own database: staff, sessions, audit")
    contracts_url: str = Field("http://127.0.0.1:8001", validation_alias="JICAI_CONTRACTS_URL")
    orders_url: str = Field("http://127.0.0.1:8002", validation_alias="JICAI_ORDERS_URL")
    settlement_url: str = Field("http://127.0.0.1:8003", validation_alias="JICAI_SETTLEMENT_URL")
    alerts_url: str = Field("http://127.0.0.1:8004", validation_alias="JICAI_ALERTS_URL")
    auth_secret: SecretStr = Field(SecretStr(DEVELOPMENT_SECRET), validation_alias="JICAI_AUTH_SECRET",
                                   description="signs the short-lived API tokens minted for the signed-in party")
    session_secret: SecretStr = Field(SecretStr(DEVELOPMENT_SESSION_SECRET), validation_alias="JICAI_CONSOLE_SESSION_SECRET",
                                      description="signs the session cookie")
    environment: Literal["development", "test", "production"] = Field("development", validation_alias="JICAI_ENV")
    api_token_seconds: int = Field(300, ge=30, le=3600, validation_alias="JICAI_CONSOLE_API_TOKEN_SECONDS",
                                   description="lifetime of a token minted for one page's API calls")
    session_hours: int = Field(8, ge=1, le=24 * 7, validation_alias="JICAI_CONSOLE_SESSION_HOURS")
    secure_cookies: bool = Field(False, validation_alias="JICAI_CONSOLE_SECURE_COOKIES",
                                 description="mark cookies Secure (behind HTTPS; always on in production)")
    api_timeout_seconds: float = Field(15.0, validation_alias="JICAI_CONSOLE_API_TIMEOUT_SECONDS")

    @property
    def service_urls(self) -> dict[str, str]:
        return {"contracts": self.contracts_url, "orders": self.orders_url, "settlement": self.settlement_url, "alerts": self.alerts_url}

    @model_validator(mode="after")
    def _private_secrets_in_production(self) -> Settings:
        if self.environment == "production":
            for name, value, placeholder in (("JICAI_AUTH_SECRET", self.auth_secret, DEVELOPMENT_SECRET),
                                             ("JICAI_CONSOLE_SESSION_SECRET", self.session_secret, DEVELOPMENT_SESSION_SECRET)):
                secret = value.get_secret_value()
                if secret == placeholder or len(secret) < 32:
                    raise ValueError(f"{name} must be set to a private value of at least 32 characters in production")
            self.secure_cookies = True
        return self
