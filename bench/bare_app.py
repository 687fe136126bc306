"""The baseline of the latency row: a bare FastAPI app with the same request shapes and no platform code.

Served by uvicorn like the services (``uvicorn bench.bare_app:app``): the
body is validated by pydantic and answered at once, no database.
"""
from __future__ import annotations

from datetime import date

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Line(BaseModel):
    external_id: str
    contract_id: str
    accepted_quantity: int
    rejected_quantity: int
    accepted_on: date
    lot_number: str


class Batch(BaseModel):
    lines: list[Line]


@app.post("/push")
async def push(batch: Batch) -> dict[str, int]:
    return {"accepted": len(batch.lines), "duplicates": 0, "rejected": 0}


@app.get("/status")
async def status() -> dict[str, object]:
    return {"institution_id": "H001", "status": "normal", "withholds": [], "suspensions": []}


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
