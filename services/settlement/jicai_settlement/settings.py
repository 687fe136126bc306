from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from jicai_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: ClassVar[str] = "settlement"
    database_url: str = Field(
        "postgresql+psycopg://jicai@127.0.0.1:5432/settlement", validation_alias="JICAI_SETTLEMENT_DATABASE_URL"
    )
