"""Enum-valued fields are enums in every service's OpenAPI: a string whose description lists its values
(``missing | closed``) without an ``enum`` is a closed set a client cannot see."""
from __future__ import annotations

import re
from functools import cache
from typing import Any

from jicai_devstack.contracts import current


@cache
def _openapi() -> dict[str, Any]:
    return current()["openapi"]


LISTED_VALUES = re.compile(r"^[a-z_]+( \| [a-z_]+)+\b")


def _strings_listing_values(node: Any, where: str) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        described = node.get("description", "")
        variants = [node, *node.get("anyOf", [])]
        is_string = any(v.get("type") == "string" for v in variants if isinstance(v, dict))
        has_enum = any("enum" in v or "$ref" in v or "const" in v for v in variants if isinstance(v, dict))
        if isinstance(described, str) and LISTED_VALUES.match(described) and is_string and not has_enum:
            found.append(f"{where}: {described}")
        for key, value in node.items():
            found += _strings_listing_values(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _strings_listing_values(value, f"{where}[{i}]")
    return found


def test_no_string_lists_its_values_without_an_enum() -> None:
    openapi = _openapi()
    assert set(openapi) == {"contracts.json", "orders.json", "settlement.json", "alerts.json"}
    offending = [f for name, document in openapi.items() for f in _strings_listing_values(document, name)]
    assert offending == []


def test_the_alert_kinds_are_an_enum_documented_with_the_notices_terms() -> None:
    schemas = _openapi()["alerts.json"]["components"]["schemas"]
    kind = schemas["AlertKind"]
    assert kind["enum"] == [
        "overdue_warning", "settlement_withheld", "volume_warning", "settlement_suspended", "non_winning_cap_exceeded",
        "filing_warning_line_exceeded", "manufacturer_report_missed",
    ]
    assert all(term in kind["description"] for term in ("预警", "暂缓拨付", "暂停医保月结算", "非中选", "备案采购"))
    assert set(schemas["DecisionKind"]["enum"]) > set(kind["enum"])
