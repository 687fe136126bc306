"""The actions an operator takes, each as plain data: the form it needs and the one API request it becomes.

Every action is shown for confirmation first, then sent with the operator's own short-lived token, and
recorded in the audit with who, why, what was sent and what the service answered.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jicai_policy import PolicyFileError
from jicai_policy.notice import read_notice, to_toml


@dataclass(frozen=True)
class Request:
    method: str
    service: str  # DISCOVERED: whichever service's OpenAPI document offers ``route``
    path: str
    body: dict[str, Any] | None
    target: str  # what the audit names: the institution, dead letter, year…
    route: str | None = None  # the path template, for an endpoint whose owner is discovered


DISCOVERED = "discovered"
"""Policy writes (calendar years, go-lives) moved between services as the policy topic was built (alerts' own
``PUT /calendars/{year}`` first, then contracts' for every service): the console sends them to the service
whose OpenAPI document offers the route, so it follows without a change."""


@dataclass(frozen=True)
class Action:
    name: str
    title: str  # catalog key
    fields: tuple[str, ...]  # besides ``reason``, which every action requires
    build: Callable[[Mapping[str, str]], Request]


class ActionInputError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


def _required(form: Mapping[str, str], *names: str) -> dict[str, str]:
    out = {}
    for name in (*names, "reason"):
        value = (form.get(name) or "").strip()
        if not value:
            raise ActionInputError(name, "required")
        out[name] = value
    return out


def _grant_exemption(form: Mapping[str, str]) -> Request:
    f = _required(form, "institution_id", "exemption_id", "from", "to")
    return Request("POST", "alerts", f"/institutions/{f['institution_id']}/volume-exemptions",
                   {"exemption_id": f["exemption_id"], "reason": f["reason"], "from": f["from"], "to": f["to"]}, f["institution_id"])


def _revoke_exemption(form: Mapping[str, str]) -> Request:
    f = _required(form, "institution_id", "exemption_id")
    return Request("POST", "alerts", f"/institutions/{f['institution_id']}/volume-exemptions/{f['exemption_id']}/revocation",
                   {"reason": f["reason"]}, f"{f['institution_id']}/{f['exemption_id']}")


SERVICES = ("contracts", "orders", "settlement", "alerts")


def _dead_letter(verb: str) -> Callable[[Mapping[str, str]], Request]:
    def build(form: Mapping[str, str]) -> Request:
        f = _required(form, "service", "dead_letter_id")
        if f["service"] not in SERVICES:
            raise ActionInputError("service", f"one of {', '.join(SERVICES)}")
        if not f["dead_letter_id"].isdigit():
            raise ActionInputError("dead_letter_id", "a number")
        return Request("POST", f["service"], f"/dead-letters/{f['dead_letter_id']}/{verb}", None, f"{f['service']}/{f['dead_letter_id']}")

    return build


def _filing_line(form: Mapping[str, str]) -> Request:
    f = _required(form, "institution_id", "amount", "from_year")
    if not f["from_year"].isdigit():
        raise ActionInputError("from_year", "a year, e.g. 2026")
    return Request("PUT", "alerts", f"/institutions/{f['institution_id']}/filing-warning-line",
                   {"amount": f["amount"], "from_year": int(f["from_year"]), "reason": f["reason"]}, f["institution_id"])


def read_calendar_notice(text: str) -> tuple[int, list[str], list[str], str]:
    """The notice read by the platform's parser: year, rest days, make-up working days, the calendar file's text."""
    try:
        calendar = read_notice(text)
    except PolicyFileError as exc:
        raise ActionInputError("notice", "; ".join(f"{field}: {reason}" for field, reason in exc.problems)) from exc
    return (calendar.year, [d.isoformat() for d in calendar.holidays], [d.isoformat() for d in calendar.makeup_working_days],
            to_toml(calendar))


def _load_calendar(form: Mapping[str, str]) -> Request:
    f = _required(form, "notice")
    year, _, _, file = read_calendar_notice(f["notice"])
    return Request("PUT", DISCOVERED, f"/calendars/{year}", {"file": file}, str(year), route="/calendars/{year}")


GO_LIVE_RULES = ("volume_completion", "non_winning_cap", "manufacturer_report")  # R3, R4, manufacturers' monthly reports


def _go_live(form: Mapping[str, str]) -> Request:
    f = _required(form, "region_code", "rule", "from")
    if f["rule"] not in GO_LIVE_RULES:
        raise ActionInputError("rule", f"one of {', '.join(GO_LIVE_RULES)}")
    return Request("PUT", DISCOVERED, f"/policy/regions/{f['region_code']}/go-lives/{f['rule']}",
                   {"from": f["from"], "source": f["reason"]}, f"{f['region_code']}/{f['rule']}",
                   route="/policy/regions/{region_code}/go-lives/{rule}")


ACTIONS = {a.name: a for a in (
    Action("grant_exemption", "grant_exemption", ("institution_id", "exemption_id", "from", "to"), _grant_exemption),
    Action("revoke_exemption", "revoke_exemption", ("institution_id", "exemption_id"), _revoke_exemption),
    Action("redrive", "redrive", ("service", "dead_letter_id"), _dead_letter("redrive")),
    Action("resolve", "resolve", ("service", "dead_letter_id"), _dead_letter("resolve")),
    Action("set_filing_line", "set_filing_line", ("institution_id", "amount", "from_year"), _filing_line),
    Action("load_calendar", "load_calendar", ("notice",), _load_calendar),
    Action("set_go_live", "set_go_live", ("region_code", "rule", "from"), _go_live),
)}
