from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from jicai_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: ClassVar[str] = "alerts"
    database_url: str = Field(
        "postgresql+psycopg://jicai@127.0.0.1:5432/alerts", validation_alias="JICAI_ALERTS_DATABASE_URL"
    )
