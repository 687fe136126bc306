from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from jicai_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: ClassVar[str] = "alerts"
    database_url: str = Field(
        "postgresql+psycopg://jicai@127.0.0.1:5432/alerts", validation_alias="JICAI_ALERTS_DATABASE_URL"
    )
    calendar_warning_days: int = Field(
        60, ge=1, le=366, validation_alias="JICAI_CALENDAR_WARNING_DAYS",
        description="from this many days before the working-day calendar's last covered day, /readyz is degraded",
    )
    day_close_chunk_size: int = Field(
        1000, ge=1, le=100_000, validation_alias="JICAI_DAY_CLOSE_CHUNK_SIZE",
        description="invoices a day close decides per transaction (each chunk commits with the close's progress)",
    )
    day_close_chunks_at_once: int = Field(
        2, ge=1, le=16, validation_alias="JICAI_DAY_CLOSE_CHUNKS_AT_ONCE",
        description="chunks of a day close one instance decides side by side (one in Python while PostgreSQL writes another)",
    )
