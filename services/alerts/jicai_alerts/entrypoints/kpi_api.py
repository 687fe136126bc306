"""HTTP API of the monitoring indicators (监测考核, R7): monthly values per institution, ranked, and per
pooling region; the filing-purchase warning line (备案采购金额预警线) per institution."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from jicai_alerts.adapters import queries
from jicai_alerts.adapters import tables as t
from jicai_alerts.adapters.policy import policy_book
from jicai_alerts.application import kpis as app
from jicai_alerts.domain import kpi_events as k
from jicai_alerts.domain import kpis
from jicai_events.unit_of_work import UnitOfWork
from jicai_kit.auth import Caller, Role
from jicai_kit.commands import execute, query
from jicai_kit.validity import Input, MoneyIn, YearMonth, first_of
from jicai_policy.sections.monitoring import Kpi

router = APIRouter(tags=["monitoring indicators"])
Month = Annotated[YearMonth, Query(description="the calendar month, YYYY-MM")]


class KpiValueOut(BaseModel):
    indicator: Kpi
    value: Decimal | None = Field(description="numerator / denominator rounded down to 4 places (amounts: yuan); null: nothing to count")
    numerator: Decimal
    denominator: Decimal | None
    year_to_date: Decimal | None = Field(None, description="filing_purchase_amount: the year's filing amount to the month's end")
    warning_line: Decimal | None = Field(None, description="filing_purchase_amount: the warning line in force, if any")


class InstitutionKpisOut(BaseModel):
    institution_id: str
    month: str
    pooling_region_code: str | None
    profile_id: str | None
    profile_version: int | None
    indicators: list[KpiValueOut] = Field(description="the profile's kpis.indicators the event stream can tell, in its order")


class RankedOut(KpiValueOut):
    rank: int | None = Field(description="1 = first in the requested order; equal values share a rank; null: no value")
    institution_id: str
    pooling_region_code: str | None


class RegionKpiOut(KpiValueOut):
    pooling_region_code: str
    institutions: int = Field(description="institutions of the region with this indicator in their profile")


class WarningLineIn(Input):
    amount: MoneyIn = Field(description="yuan per year")
    from_year: int = Field(ge=2000, le=2100)
    reason: str = Field(min_length=1, max_length=2000)


class WarningLineOut(BaseModel):
    institution_id: str
    amount: Decimal
    from_year: int


class FilingWarningOut(BaseModel):
    decision_id: str
    year: int
    exceeded_on: date
    filing_amount: Decimal
    warning_line: Decimal
    line_source: Literal["profile", "institution"] = Field(description="profile: the profile's line; institution: the bureau's line for it")
    profile_id: str
    profile_version: int
    caused_by: list[str]


_month = first_of


def _out(value: kpis.KpiValue) -> KpiValueOut:
    return KpiValueOut(
        indicator=value.indicator, value=value.value, numerator=value.numerator, denominator=value.denominator,
        year_to_date=value.year_to_date, warning_line=value.warning_line,
    )


@router.get("/institutions/{institution_id}/kpis", response_model=InstitutionKpisOut)
async def institution_kpis(institution_id: str, month: Month, caller: Caller, request: Request) -> InstitutionKpisOut:
    """The institution's indicators of the month (按月监测), computed from the events."""
    caller.may_read(what=f"the records of institution {institution_id}", institution_id=institution_id)
    result = await query(request.app.state.runtime, lambda uow: app.institution_month(uow, institution_id, _month(month), policy_book()))
    return InstitutionKpisOut(
        institution_id=institution_id, month=month, pooling_region_code=result.pooling_region_code,
        profile_id=result.profile.profile_id if result.profile else None,
        profile_version=result.profile.version if result.profile else None,
        indicators=[_out(x) for x in result.values],
    )


@router.get("/kpis", response_model=list[RankedOut])
async def ranked_kpis(
    month: Month, indicator: Kpi, caller: Caller, request: Request,
    pooling_region_code: Annotated[str | None, Query(pattern=r"^[0-9]{6}$")] = None, order: Literal["asc", "desc"] = "desc",
) -> list[RankedOut]:
    """Institutions ranked by one indicator of the month (排名), optionally of one pooling region: only those
    whose profile lists the indicator. Operators and the fund only."""
    caller.require(Role.OPERATOR, Role.FUND)
    months = await query(request.app.state.runtime, lambda uow: app.every_institution_month(uow, _month(month), policy_book()))
    regions = {m.institution_id: m.pooling_region_code for m in months}
    values = [
        (m.institution_id, x) for m in months for x in m.values
        if x.indicator is indicator and (pooling_region_code is None or m.pooling_region_code == pooling_region_code)
    ]
    return [
        RankedOut(rank=position, institution_id=i, pooling_region_code=regions[i], **_out(x).model_dump())
        for position, i, x in kpis.rank(values, order)
    ]


@router.get("/kpis/regions", response_model=list[RegionKpiOut])
async def region_kpis(month: Month, caller: Caller, request: Request, indicator: Kpi | None = None) -> list[RegionKpiOut]:
    """Per pooling region (统筹区) and indicator: Σ numerators / Σ denominators of its institutions (amounts summed)."""
    caller.require(Role.OPERATOR, Role.FUND)
    months = await query(request.app.state.runtime, lambda uow: app.every_institution_month(uow, _month(month), policy_book()))
    grouped: dict[tuple[str, Kpi], list[kpis.KpiValue]] = {}
    for m in months:
        for x in m.values:
            if m.pooling_region_code and (indicator is None or x.indicator is indicator):
                grouped.setdefault((m.pooling_region_code, x.indicator), []).append(x)
    return [
        RegionKpiOut(pooling_region_code=region, institutions=len(values), **_out(kpis.aggregate(kpi, values)).model_dump())
        for (region, kpi), values in sorted(grouped.items())
    ]


@router.put("/institutions/{institution_id}/filing-warning-line", response_model=WarningLineOut)
async def set_filing_warning_line(institution_id: str, body: WarningLineIn, caller: Caller, request: Request) -> WarningLineOut:
    """Set the institution's filing-purchase amount warning line (设置医疗机构药品备案采购金额预警线,
    Liangjiang 002 §二(三)), from ``from_year`` on: used where the profile enables the line without an amount."""
    caller.require(Role.OPERATOR)
    line = k.FilingWarningLineSet(
        institution_id=institution_id, amount=body.amount, from_year=body.from_year, set_by=caller.party_id, reason=body.reason
    )

    async def command(uow: UnitOfWork) -> None:
        await app.set_warning_line(uow, line, policy_book())

    await execute(request.app.state.runtime, command)
    return WarningLineOut(institution_id=institution_id, amount=body.amount, from_year=body.from_year)


@router.get("/institutions/{institution_id}/filing-warnings", response_model=list[FilingWarningOut])
async def filing_warnings(institution_id: str, caller: Caller, request: Request) -> list[FilingWarningOut]:
    """The years whose filing purchases went over the warning line, with the line, amount and causes."""
    caller.may_read(what=f"the records of institution {institution_id}", institution_id=institution_id)
    fw = t.filing_warnings
    rows = await query(
        request.app.state.runtime, lambda uow: queries.list_rows(uow, fw, fw.c.institution_id == institution_id, order_by=[fw.c.year])
    )
    return [FilingWarningOut.model_validate(r) for r in rows]
