"""Operators' actions: a form → a confirmation page → the API request, recorded in the audit with who and why."""
from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from jicai_console.adapters.platform import Caller
from jicai_console.domain.actions import ACTIONS, DISCOVERED, GO_LIVE_RULES, Action, ActionInputError, read_calendar_notice
from jicai_console.domain.actions import Request as Planned
from jicai_console.entrypoints.web import Posted, SignedIn, caller, render, require_operator, require_province, store_of

router = APIRouter()


async def _routed(api: Caller, planned: Planned) -> Planned:
    """The owning service of a policy write (see ``DISCOVERED``); refused when no service offers it (yet)."""
    if planned.service != DISCOVERED or planned.route is None:
        return planned
    owner = await api.platform.offering(planned.method, planned.route)
    if owner is None:
        raise ActionInputError("service", f"no service offers {planned.method} {planned.route} yet")
    return Planned(planned.method, owner, planned.path, planned.body, planned.target, planned.route)


async def _fields(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}


def _action(name: str) -> Action:
    action = ACTIONS.get(name)
    if action is None:
        from fastapi import HTTPException

        raise HTTPException(404, f"no action {name!r}")
    return action


@router.get("/calendar", response_class=HTMLResponse)
async def calendar_form(request: Request, session: SignedIn) -> HTMLResponse:
    require_province(session.user)
    calendars = await caller(request, session.user).get("alerts", "/policy/calendars")
    return render(request, "calendar.html", session, calendars=calendars)


@router.post("/actions/{name}/confirm", response_class=HTMLResponse)
async def confirm(request: Request, session: Posted, name: str) -> HTMLResponse:
    """The confirmation step: what will be sent, on whose behalf; nothing is sent yet."""
    require_operator(session.user)
    action = _action(name)
    fields = await _fields(request)
    preview: dict[str, Any] = {}
    try:
        planned = await _routed(caller(request, session.user), action.build(fields))
        if name == "load_calendar":
            year, holidays, makeup, _ = read_calendar_notice(fields["notice"])
            preview = {"year": year, "holidays": holidays, "makeup": makeup}
    except ActionInputError as exc:
        return render(request, "result.html", session, status_code=422, action=action, ok=False, status=422,
                      answer={"errors": [{"field": exc.field, "reason": exc.reason}]}, back=request.headers.get("referer"))
    return render(request, "confirm.html", session, action=action, fields=fields, planned=planned, preview=preview)


@router.post("/actions/{name}", response_class=HTMLResponse)
async def execute(request: Request, session: Posted, name: str) -> HTMLResponse:
    require_operator(session.user)
    action = _action(name)
    fields = await _fields(request)
    api = caller(request, session.user)
    try:
        planned = await _routed(api, action.build(fields))
    except ActionInputError as exc:
        return render(request, "result.html", session, status_code=422, action=action, ok=False, status=422,
                      answer={"errors": [{"field": exc.field, "reason": exc.reason}]}, back=None)
    answer = await api.send(planned.method, planned.service, planned.path, planned.body)
    await store_of(request).record(
        session.user, action.name, planned.target, fields["reason"],
        {"method": planned.method, "service": planned.service, "path": planned.path, "body": planned.body}, answer.status, answer.body,
    )
    ok = answer.status < 400 and not (isinstance(answer.body, dict) and answer.body.get("outcome") == "refused")
    back = f"/institutions/{fields['institution_id']}" if "institution_id" in fields else None
    return render(request, "result.html", session, status_code=200 if answer.status < 400 else answer.status if answer.status < 500 else 502,
                  action=action, ok=ok, status=answer.status, answer=answer.body, back=back)


@router.get("/policy", response_class=HTMLResponse)
async def policy(request: Request, session: SignedIn, on: date | None = None) -> HTMLResponse:
    """Each pooling region's profile and rule go-lives (as alerts reads them), and the form to set one where a
    service offers ``PUT /policy/regions/{code}/go-lives/{rule}``."""
    require_province(session.user)
    api = caller(request, session.user)
    institutions = await api.get("contracts", "/institutions")
    codes = sorted({i["pooling_region_code"] for i in institutions})
    day = on or datetime.now(ZoneInfo("Asia/Shanghai")).date()
    regions = await asyncio.gather(*(api.get_or({"region_code": c}, "alerts", f"/policy/regions/{c}", on=day.isoformat()) for c in codes))
    owner = await api.platform.offering("PUT", "/policy/regions/{region_code}/go-lives/{rule}")
    return render(request, "policy.html", session, regions=regions, rules=GO_LIVE_RULES, go_live_offered=owner is not None, on=day)
