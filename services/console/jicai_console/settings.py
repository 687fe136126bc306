"""The console's settings, read from the environment (``JICAI_CONSOLE_*``, the services' URLs, the token signing key).

Any of them can be read from a file instead, ``<VARIABLE>_FILE`` (``jicai_kit.settings.FileSettings``):
``JICAI_CONSOLE_SESSION_SECRET_FILE=/run/secrets/console-session-secret``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict
from sqlalchemy.engine import make_url

from jicai_console.domain.accounts import PasswordHashing, Passwords
from jicai_kit.keys import DEVELOPMENT_KID_PREFIX, KeyFileError, SigningKey
from jicai_kit.settings import SecretsFromFiles

DEVELOPMENT_SESSION_SECRET = "jicai-console-development-session-secret-0123456789"
SERVICES = ("contracts", "orders", "settlement", "alerts")
"""The audiences of the tokens the console mints: it calls all four."""


class Settings(SecretsFromFiles):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    database_url: str = Field(validation_alias="JICAI_CONSOLE_DATABASE_URL", description="the console's own database: staff, sessions, audit")
    database_password: SecretStr | None = Field(
        None, validation_alias="JICAI_DATABASE_PASSWORD", description="replaces the password of the database URL; read it from a file",
    )
    contracts_url: str = Field("http://127.0.0.1:8001", validation_alias="JICAI_CONTRACTS_URL")
    orders_url: str = Field("http://127.0.0.1:8002", validation_alias="JICAI_ORDERS_URL")
    settlement_url: str = Field("http://127.0.0.1:8003", validation_alias="JICAI_SETTLEMENT_URL")
    alerts_url: str = Field("http://127.0.0.1:8004", validation_alias="JICAI_ALERTS_URL")
    signing_key_file: Path | None = Field(
        None, validation_alias="JICAI_CONSOLE_SIGNING_KEY_FILE",
        description="private Ed25519 JWK (with its kid) signing the short-lived API tokens minted for the signed-in party",
    )
    session_secret: SecretStr = Field(SecretStr(DEVELOPMENT_SESSION_SECRET), validation_alias="JICAI_CONSOLE_SESSION_SECRET",
                                      description="signs the session cookie")
    environment: Literal["development", "test", "production"] = Field("development", validation_alias="JICAI_ENV")
    api_token_seconds: int = Field(300, ge=30, le=300, validation_alias="JICAI_CONSOLE_API_TOKEN_SECONDS",
                                   description="lifetime of a token minted for one page's API calls (at most 5 minutes)")
    session_hours: int = Field(8, ge=1, le=24 * 7, validation_alias="JICAI_CONSOLE_SESSION_HOURS")
    secure_cookies: bool = Field(False, validation_alias="JICAI_CONSOLE_SECURE_COOKIES",
                                 description="mark cookies Secure (behind HTTPS; always on in production)")
    api_timeout_seconds: float = Field(15.0, validation_alias="JICAI_CONSOLE_API_TIMEOUT_SECONDS")
    password_hashing: PasswordHashing = Field(
        "rfc9106", validation_alias="JICAI_CONSOLE_PASSWORD_HASHING",
        description="argon2id parameters of new password hashes: rfc9106 (RFC 9106's, 0.2 s of CPU a hash); "
        "cheapest only for the test suite, refused in production",
    )

    @property
    def service_urls(self) -> dict[str, str]:
        return {"contracts": self.contracts_url, "orders": self.orders_url, "settlement": self.settlement_url, "alerts": self.alerts_url}

    def passwords(self) -> Passwords:
        return Passwords(self.password_hashing)

    def signing_key(self) -> SigningKey:
        """The key tokens are signed with; a console without one cannot call the services."""
        if self.signing_key_file is None:
            raise KeyFileError("JICAI_CONSOLE_SIGNING_KEY_FILE must name the private JWK the console signs API tokens with")
        return SigningKey.load(self.signing_key_file)

    @model_validator(mode="after")
    def _database_password(self) -> Settings:
        if self.database_password is not None:
            url = make_url(self.database_url).set(password=self.database_password.get_secret_value())
            self.database_url = url.render_as_string(hide_password=False)
        return self

    @model_validator(mode="after")
    def _strong_password_hashing_in_production(self) -> Settings:
        if self.environment == "production" and self.password_hashing != "rfc9106":
            raise ValueError(f"JICAI_CONSOLE_PASSWORD_HASHING={self.password_hashing} is for tests: refused in production (rfc9106)")
        return self

    @model_validator(mode="after")
    def _private_secrets_in_production(self) -> Settings:
        if self.environment != "production":
            return self
        secret = self.session_secret.get_secret_value()
        if secret == DEVELOPMENT_SESSION_SECRET or len(secret) < 32:
            raise ValueError("JICAI_CONSOLE_SESSION_SECRET must be set to a private value of at least 32 characters in production")
        try:
            kid = self.signing_key().kid
        except KeyFileError as exc:
            raise ValueError(str(exc)) from exc
        if kid.startswith(DEVELOPMENT_KID_PREFIX):
            raise ValueError(f"development token key {kid} is refused in production (JICAI_CONSOLE_SIGNING_KEY_FILE)")
        self.secure_cookies = True
        return self
