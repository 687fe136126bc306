from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field

from jicai_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: ClassVar[str] = "alerts"
    database_url: str = Field(
        "postgresql+psycopg://jicai@127.0.0.1:5432/alerts", validation_alias="JICAI_ALERTS_DATABASE_URL"
    )
    volume_completion_from: date | None = Field(
        None,
        validation_alias="JICAI_ALERTS_VOLUME_COMPLETION_FROM",
        description=(
            "R3 (volume completion) decides on period ends from this date on; unset: no R3 decisions. "
            "Set it once the platform holds every acceptance since the cycles began: a platform going live "
            "mid-cycle would otherwise warn and suspend every institution for purchases it never saw."
        ),
    )
