"""``GET /policy/regions/{code}`` on every service: the policy a pooling region follows on a date, as this service
has folded it (packaged profiles + the policy topic's changes), and where each part comes from."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from jicai_kit.auth import Caller
from jicai_kit.problems import not_found
from jicai_kit.validity import today
from jicai_policy import NoProfileForRegion
from jicai_policy.loading import GO_LIVE_RULES

router = APIRouter(tags=["policy"])


class Origin(BaseModel):
    kind: Literal["file", "event"] = Field(description="file: the packaged regions.toml; event: a change on the policy topic")
    event_id: str | None = Field(None, description="the policy event (kind event)")


class GoLive(BaseModel):
    go_live: date | None = Field(description="decided from this day on; null: not decided in the region")
    origin: Origin | None = Field(description="where the go-live comes from (null while the rule is not live)")


class VolumeCompletionLines(BaseModel):
    """The profile's R3 lines (完成约定采购量): completion below ``warning_below`` warns (预警), below ``suspend_below``
    suspends the monthly settlement from the next month (暂停医保月结算)."""

    period: str = Field(description="the evaluation period (quarter)")
    warning_below: Decimal = Field(description="completion ratio below which an institution is warned")
    suspend_below: Decimal = Field(description="completion ratio below which its monthly settlement is suspended")


class RegionPolicyOut(BaseModel):
    """The policy a pooling region (统筹区) follows on a date."""

    region_code: str
    region_name: str
    on: date
    profile_id: str
    profile_version: int
    profile_title: str
    effective_from: date = Field(description="the assignment in force since")
    source: str = Field(description="the notice the assignment cites")
    assignment_origin: Origin
    volume_completion_from: date | None = Field(description="R3 go-live on the platform; null: not decided in the region")
    non_winning_cap_from: date | None = Field(description="R4 go-live; null: not decided in the region")
    manufacturer_report_from: date | None = Field(description="manufacturers' monthly reports checked from; null: not checked")
    go_lives: dict[str, GoLive] = Field(description="per rule go-live (volume_completion_from, non_winning_cap_from, manufacturer_report_from)")
    volume_completion: VolumeCompletionLines | None = Field(
        None, description="the profile's R3 lines, whether or not R3 is live in the region; null: the profile has no R3 section")


class PolicyChangeOut(BaseModel):
    position: int = Field(description="the order this service folds it in (the policy topic's)")
    event_id: str
    event_type: str
    recorded_at: datetime = Field(description="when this service stored it")
    applied: bool = Field(description="false: this deployment cannot apply it (reason), e.g. a profile version it does not ship yet")
    reason: str | None = None


def _origin(text: str) -> Origin:
    kind, _, event_id = text.partition(":")
    return Origin(kind="event", event_id=event_id) if kind == "event" else Origin(kind="file")


@router.get("/policy/regions/{region_code}", response_model=RegionPolicyOut)
async def region_policy(
    region_code: Annotated[str, Path(pattern=r"^\d{6}$", description="the pooling region's 6-digit code")],
    caller: Caller,
    request: Request,
    on: Annotated[date | None, Query(description="the day (YYYY-MM-DD); today in Asia/Shanghai if omitted")] = None,
) -> RegionPolicyOut:
    """The profile (id, version), its assignment and the rule go-lives in force for the region on ``on``, each with
    its origin: the packaged ``regions.toml`` or a policy event (its id)."""
    runtime = request.app.state.runtime
    day = on or today(request.app.state.settings)
    book = runtime.policy.book()
    try:
        entry = book.entry_for(region_code, day)
    except NoProfileForRegion as exc:
        raise not_found("policy for region", f"{region_code} on {day.isoformat()}") from exc
    go_lives = {}
    for rule in GO_LIVE_RULES:
        origin = entry.go_live_origin(rule)
        go_lives[rule] = GoLive(go_live=getattr(entry, rule), origin=_origin(origin) if origin else None)
    profile = book.get(entry.profile_id, entry.version)
    r3 = profile.volume_completion
    return RegionPolicyOut(
        region_code=entry.region_code, region_name=entry.region_name, on=day, profile_id=entry.profile_id,
        profile_version=entry.version, profile_title=profile.title,
        effective_from=entry.effective_from, source=entry.source, assignment_origin=_origin(entry.origin),
        volume_completion_from=entry.volume_completion_from, non_winning_cap_from=entry.non_winning_cap_from,
        manufacturer_report_from=entry.manufacturer_report_from, go_lives=go_lives,
        volume_completion=VolumeCompletionLines(period=r3.period, warning_below=r3.warning_below, suspend_below=r3.suspend_below)
        if r3 else None,
    )


@router.get("/policy/changes", response_model=list[PolicyChangeOut])
async def policy_changes(caller: Caller, request: Request) -> list[PolicyChangeOut]:
    """The policy topic's changes this service has stored and folds over its packaged profiles, in order, and whether
    each applies here."""
    runtime = request.app.state.runtime
    t = runtime.tables.policy_changes
    async with runtime.session_factory() as session:
        await runtime.policy.refresh(session, runtime.tables, force=True)
        rows = (await session.execute(select(t.c.position, t.c.event_id, t.c.event_type, t.c.recorded_at).order_by(t.c.position))).all()
    skipped = dict(runtime.policy.skipped)
    return [
        PolicyChangeOut(position=r.position, event_id=r.event_id, event_type=r.event_type, recorded_at=r.recorded_at,
                        applied=r.event_id not in skipped, reason=skipped.get(r.event_id))
        for r in rows
    ]
