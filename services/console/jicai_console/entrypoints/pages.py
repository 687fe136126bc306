"""The pages staff read: province overview and its lists, an institution, a decision's why, rankings, dead letters, audit."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from jicai_console.adapters import alerts_feed, completion, exports
from jicai_console.adapters.platform import ApiError, Caller
from jicai_console.domain import charts, province, why
from jicai_console.domain.accounts import StaffRole
from jicai_console.domain.feed import FeedEntry
from jicai_console.domain.i18n import translator
from jicai_console.entrypoints.web import (
    Forbidden,
    SignedIn,
    caller,
    lang_of,
    render,
    require_institution,
    require_province,
    store_of,
)

router = APIRouter()
SERVICES = ("contracts", "orders", "settlement", "alerts")
SHANGHAI = ZoneInfo("Asia/Shanghai")
T = TypeVar("T")


def _today() -> date:
    return datetime.now(SHANGHAI).date()


async def _or_none(call: Awaitable[T]) -> T | None:
    """A figure the signed-in user may not see, or a service away, shows as "—" rather than failing the page."""
    try:
        return await call
    except ApiError:
        return None


@router.get("/", include_in_schema=False)
async def home(session: SignedIn) -> RedirectResponse:
    user = session.user
    if user.role is StaffRole.INSTITUTION:
        return RedirectResponse(f"/institutions/{user.party_id}", 303)
    if user.role is StaffRole.DISTRIBUTOR:
        return RedirectResponse(f"/distributors/{user.party_id}", 303)
    return RedirectResponse("/overview", 303)


async def _province(api: Caller) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[FeedEntry]]:
    institutions: list[dict[str, Any]] = await api.get("contracts", "/institutions")
    ids = [i["institution_id"] for i in institutions]
    invoices_per, entries = await asyncio.gather(
        asyncio.gather(*(api.get("alerts", f"/institutions/{i}/invoices") for i in ids)),
        alerts_feed.province_feed(api),
    )
    return institutions, [inv for rows in invoices_per for inv in rows], entries


async def _dead_letter_total(api: Caller, service: str) -> int | None:
    page = await _or_none(api.get(service, "/dead-letters", status="dead", limit=1))
    return page["total"] if page else None


@router.get("/overview", response_class=HTMLResponse)
async def overview(request: Request, session: SignedIn) -> HTMLResponse:
    require_province(session.user)
    api = caller(request, session.user)
    platform = api.platform
    (institutions, invoices, entries), blocked, calendars, dead, clocks = await asyncio.gather(
        _province(api),
        _or_none(alerts_feed.blocked_decisions(api)),
        _or_none(api.get("alerts", "/policy/calendars")),
        asyncio.gather(*(_dead_letter_total(api, s) for s in SERVICES)),
        asyncio.gather(*(_or_none(platform.public(s, "/clock")) for s in SERVICES)),
    )
    tr = translator(lang_of(request))
    weeks = province.warnings_per_week(entries)
    chart = charts.bar_chart(
        [w.monday.strftime("%m-%d") for w in weeks],
        [charts.Series(tr("opened"), [w.opened for w in weeks], "#d9822b"), charts.Series(tr("closed"), [w.closed for w in weeks], "#2b8a3e")],
        title=tr("warnings_per_week"),
    )
    names = {i["institution_id"]: i["name"] for i in institutions}
    month = completion.business_month(clocks[SERVICES.index("alerts")], _today())
    volume = await _or_none(completion.month_completion(api, month))
    distribution = province.completion_distribution(volume.rows, volume.lines) if volume else None
    return render(
        request, "overview.html", session,
        month=month, distribution=distribution, bands=province.BANDS,
        completion_chart=_distribution_chart(distribution, tr) if distribution else None,
        names=names,
        withheld=province.institutions_with_open(entries, "settlement_withheld"),
        suspended=province.institutions_with_open(entries, "settlement_suspended"),
        regions=province.overdue_by_region(invoices),
        chart=chart, weeks=weeks,
        blocked=blocked, calendars=calendars,
        dead=dict(zip(SERVICES, dead, strict=True)),
        clocks=[c for c in clocks if c],
    )


BAND_COLOURS = dict(zip(province.BANDS, ("#c92a2a", "#f08c00", "#2b8a3e", "#adb5bd", "#dee2e6"), strict=True))


def _distribution_chart(distribution: list[province.RegionCompletion], tr: Callable[[str], str]) -> str:
    """Institutions per completion band, one group of bars per pooling region."""
    shown = [b for b in province.BANDS if any(r.counts[b] for r in distribution)]
    return charts.bar_chart(
        [r.pooling_region_code for r in distribution],
        [charts.Series(tr(b), [r.counts[b] for r in distribution], BAND_COLOURS[b]) for b in shown],
        title=tr("volume_completion_distribution"),
    )


@router.get("/volume-completion", response_class=HTMLResponse)
async def volume_completion(
    request: Request, session: SignedIn, month: str | None = None, region: str | None = None, band: str | None = None,
) -> HTMLResponse:
    """Institutions with their month's volume completion and band, narrowed to a pooling region and a band."""
    require_province(session.user)
    api = caller(request, session.user)
    month = month or completion.business_month(await _or_none(api.platform.public("alerts", "/clock")), _today())
    volume = await completion.month_completion(api, month)
    rows = province.completion_by_band(volume.rows, volume.lines, region, band if band in province.BANDS else None)
    return render(request, "volume_completion.html", session, month=month, region=region, band=band, rows=rows, lines=volume.lines)


@router.get("/institutions", response_class=HTMLResponse)
async def institutions_list(request: Request, session: SignedIn, status: str | None = None) -> HTMLResponse:
    """Every institution, or those with an open decision of one kind (``status=settlement_withheld``…)."""
    require_province(session.user)
    api = caller(request, session.user)
    institutions: list[dict[str, Any]] = await api.get("contracts", "/institutions")
    if status:
        entries = await alerts_feed.province_feed(api)
        keep = set(province.institutions_with_open(entries, status))
        institutions = [i for i in institutions if i["institution_id"] in keep]
    return render(request, "institutions.html", session, institutions=institutions, status=status)


@router.get("/warnings", response_class=HTMLResponse)
async def warnings(request: Request, session: SignedIn, week: date, event: Literal["opened", "closed"] = "opened") -> HTMLResponse:
    """The warnings (预警, R2 and R3) opened or closed in one week: the overview's weekly chart as a list."""
    require_province(session.user)
    entries = await alerts_feed.province_feed(caller(request, session.user))
    monday = week - timedelta(days=week.weekday())
    return render(request, "warnings.html", session, rows=province.warnings_of_week(entries, monday, event), week=monday, event=event)


@router.get("/overdue", response_class=HTMLResponse)
async def overdue(request: Request, session: SignedIn, region: str | None = None) -> HTMLResponse:
    require_province(session.user)
    _, invoices, _ = await _province(caller(request, session.user))
    return render(request, "overdue.html", session, invoices=province.overdue_invoices(invoices, region), region=region)


@router.get("/blocked-decisions", response_class=HTMLResponse)
async def blocked(request: Request, session: SignedIn) -> HTMLResponse:
    require_province(session.user)
    rows = await alerts_feed.blocked_decisions(caller(request, session.user))
    return render(request, "blocked.html", session, rows=rows)


@router.get("/institutions/{institution_id}", response_class=HTMLResponse)
async def institution(request: Request, session: SignedIn, institution_id: str, month: str | None = None) -> HTMLResponse:
    require_institution(session.user, institution_id)
    api = caller(request, session.user)
    month = month or _today().strftime("%Y-%m")
    record, invoices, payments, entries, volume, kpis, filing = await asyncio.gather(
        api.get_or({"institution_id": institution_id, "name": institution_id}, "contracts", f"/institutions/{institution_id}"),
        api.get("alerts", f"/institutions/{institution_id}/invoices"),
        api.get_or([], "settlement", f"/institutions/{institution_id}/payments"),
        alerts_feed.institution_feed(api, institution_id),
        api.get_or({}, "alerts", f"/institutions/{institution_id}/volume-completion"),
        api.get_or(None, "alerts", f"/institutions/{institution_id}/kpis", month=month),
        api.get_or(None, "orders", f"/institutions/{institution_id}/filing-purchases", year=month[:4]),
    )
    tr = translator(lang_of(request))
    paid_on = _last_paid(payments)
    periods = volume.get("periods", []) if volume else []
    volume_chart = charts.bar_chart(
        [str(p["period_end"]) for p in periods], [charts.Series(tr("ratio"), [Decimal(str(p["ratio"])) for p in periods], "#1c7ed6")],
        title=tr("volume_completion"), y_max=1, percent=True,
    ) if periods else None
    return render(
        request, "institution.html", session, institution=record, invoices=invoices, payments=payments, paid_on=paid_on,
        entries=entries, volume=volume, volume_chart=volume_chart, kpis=kpis, filing=filing, month=month,
        timeline=charts.invoice_timeline(invoices, paid_on, labels={k: tr(k) for _, _, k in charts.TIMELINE_MARKS}) if invoices else None,
    )


def _last_paid(payments: list[dict[str, Any]]) -> dict[str, str]:
    """Per invoice, the last day a payment was counted against it."""
    out: dict[str, str] = {}
    for p in sorted(payments, key=lambda p: str(p["paid_on"])):
        for a in p.get("allocations", []):
            out[a["invoice_id"]] = str(p["paid_on"])
    return out


@router.get("/decisions/{decision_id}", response_class=HTMLResponse)
async def decision(request: Request, session: SignedIn, decision_id: str) -> HTMLResponse:
    explained = await alerts_feed.decision(caller(request, session.user), decision_id)
    return render(request, "decision.html", session, decision=explained, chain=why.chain(explained))


@router.get("/distributors/{distributor_id}", response_class=HTMLResponse)
async def distributor(request: Request, session: SignedIn, distributor_id: str) -> HTMLResponse:
    user = session.user
    if not (user.sees_province or (user.role is StaffRole.DISTRIBUTOR and user.party_id == distributor_id)):
        raise Forbidden()
    api = caller(request, user)
    contracts = [c for c in await api.get("contracts", "/contracts") if c.get("distributor_id") == distributor_id]
    return render(request, "distributor.html", session, distributor_id=distributor_id, contracts=contracts)


@router.get("/rankings", response_model=None)
async def rankings(
    request: Request, session: SignedIn, month: str | None = None, indicator: str | None = None,
    order: Literal["asc", "desc"] = "desc", sort: str = "rank", export: Literal["csv", "xlsx"] | None = None,
) -> Response:
    require_province(session.user)
    api = caller(request, session.user)
    month = month or _today().strftime("%Y-%m")
    regions: list[dict[str, Any]] = await api.get("alerts", "/kpis/regions", month=month)
    indicators = sorted({r["indicator"] for r in regions})
    indicator = indicator or (indicators[0] if indicators else None)
    ranked: list[dict[str, Any]] = await api.get("alerts", "/kpis", month=month, indicator=indicator, order=order) if indicator else []
    ranked = _sorted(ranked, sort)
    headers = ["scope", "rank", "institution_id", "pooling_region_code", "indicator", "value", "numerator", "denominator"]
    if export:
        rows = [["institution", *(r.get(h) for h in headers[1:])] for r in ranked]
        rows += [["region", None, None, *(r.get(h) for h in headers[3:])] for r in regions if r["indicator"] == indicator]
        rows = [[_cell(v) if h in NUMBERS else v for h, v in zip(headers, row, strict=True)] for row in rows]
        name = f"kpis-{month}-{indicator}"
        if export == "csv":
            return Response(exports.to_csv(headers, rows), media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
        return Response(exports.to_xlsx(name, headers, rows),
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
    return render(request, "rankings.html", session, month=month, indicator=indicator, indicators=indicators, order=order,
                  ranked=ranked, regions=[r for r in regions if r["indicator"] == indicator], sort=sort)


NUMBERS = frozenset({"value", "numerator", "denominator"})


def _cell(value: Any) -> Any:
    """Numbers as numbers in the spreadsheet (the APIs send decimals as strings)."""
    if isinstance(value, str):
        try:
            return Decimal(value)
        except ArithmeticError:
            return value
    return value


def _sorted(rows: list[dict[str, Any]], column: str) -> list[dict[str, Any]]:
    if column not in ("rank", "institution_id", "pooling_region_code", "value"):
        return rows

    def key(row: dict[str, Any]) -> tuple[int, Any]:
        value = row.get(column)
        if value is None:
            return (1, "")
        return (0, Decimal(str(value)) if column == "value" else value)

    return sorted(rows, key=key)


@router.get("/dead-letters", response_class=HTMLResponse)
async def dead_letters(request: Request, session: SignedIn, service: str | None = None, status: str = "dead") -> HTMLResponse:
    require_province(session.user)
    api = caller(request, session.user)
    chosen = [service] if service in SERVICES else list(SERVICES)
    pages = await asyncio.gather(*(_or_none(api.get(s, "/dead-letters", status=status, limit=200)) for s in chosen))
    rows = [{**d, "service": s} for s, page in zip(chosen, pages, strict=True) if page for d in page["items"]]
    forbidden = all(p is None for p in pages)
    return render(request, "dead_letters.html", session, rows=rows, status=status, service=service, forbidden=forbidden)


@router.get("/audit", response_class=HTMLResponse)
async def audit(request: Request, session: SignedIn) -> HTMLResponse:
    require_province(session.user)
    return render(request, "audit.html", session, rows=await store_of(request).audit_rows())
