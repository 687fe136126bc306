"""Stored domain events are versioned and upcast (as ``eventsourcing``'s ``class_version``), and the domain layer is pure."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from jicai_events.domain_events import VERSION_KEY, DomainEvent, EventCodec, StoredByNewerRelease
from jicai_settlement.domain.events import InvoiceRecorded, MonthlySettlementReleased, codec


class Renamed(DomainEvent):
    """A test event at version 3: v1 called the amount ``sum``, v2 had no currency."""

    name = "Renamed"
    amount: Decimal
    currency: str

    class_version = 3

    @staticmethod
    def upcast_v1_v2(data: dict[str, Any]) -> dict[str, Any]:
        data = dict(data)
        data["amount"] = data.pop("sum")
        return data

    @staticmethod
    def upcast_v2_v3(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "currency": "CNY"}


class AtVersion1(DomainEvent):
    """A test event at version 1."""

    name = "AtVersion1"
    amount: Decimal
    on: date
    note: str | None


def test_a_current_event_is_stored_with_its_version_and_read_back_unchanged() -> None:
    name, data = EventCodec(Renamed).encode(Renamed(amount=Decimal("1.50"), currency="HKD"))
    assert (name, data) == ("Renamed", {"amount": "1.50", "currency": "HKD", VERSION_KEY: 3})
    assert EventCodec(Renamed).decode(name, data) == Renamed(amount=Decimal("1.50"), currency="HKD")


@pytest.mark.parametrize("event", [
    AtVersion1(amount=Decimal("1.9800"), on=date(2026, 9, 1), note=None),
    AtVersion1(amount=Decimal("0"), on=date(2026, 9, 1), note='验收 "quoted" \\ \u2028'),
    Renamed(amount=Decimal("1.50"), currency="港币"),
    MonthlySettlementReleased(institution_id="H1", settlement_id="S1", released_on=date(2026, 6, 3), release_decision_id="R1",
                              month="2026-05", amount=Decimal("10.00"), reason="paid"),
], ids=["version 1", "version 1, text", "version 3", "version 2"])
def test_the_json_text_a_set_based_append_stores_is_the_encoded_data(event: DomainEvent) -> None:
    codec_of = EventCodec(type(event))
    name, text = codec_of.encode_json(event)
    assert (name, json.loads(text)) == codec_of.encode(event)
    assert codec_of.decode_json(name, text) == event


@pytest.mark.parametrize(
    ("stored", "read"),
    [
        ({"sum": "2.00"}, Renamed(amount=Decimal("2.00"), currency="CNY")),  # version 1 rows carry no version key
        ({"amount": "3.00", VERSION_KEY: 2}, Renamed(amount=Decimal("3.00"), currency="CNY")),
    ],
)
def test_events_stored_by_earlier_versions_are_upcast_step_by_step(stored: dict[str, Any], read: Renamed) -> None:
    assert EventCodec(Renamed).decode("Renamed", stored) == read


class Plain(DomainEvent):
    """A test event never changed (version 1): read from JSON text by pydantic directly."""

    name = "Plain"
    amount: Decimal
    on: date
    lines: tuple[str, ...]


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("Plain", {"amount": "1.10", "on": "2026-09-01", "lines": ["A1", "A2"]}),
        ("Renamed", {"sum": "2.00"}),
        ("Renamed", {"amount": "3.00", VERSION_KEY: 2}),
        ("Renamed", {"amount": "4.00", "currency": "HKD", VERSION_KEY: 3}),
    ],
)
def test_a_rebuild_reads_the_stored_json_text_as_the_stored_dict(name: str, stored: dict[str, Any]) -> None:
    """``decode_json`` (the rebuild's read, no dict in between) gives the event ``decode`` gives, upcasts included."""
    both = EventCodec(Plain, Renamed)
    assert both.decode_json(name, json.dumps(stored)) == both.decode(name, stored)


def test_an_event_stored_by_a_newer_release_is_refused_by_name_not_misread() -> None:
    with pytest.raises(StoredByNewerRelease, match="Renamed stored at version 4; this release reads up to 3"):
        EventCodec(Renamed).decode("Renamed", {"amount": "1.00", "currency": "CNY", VERSION_KEY: 4})


def test_a_version_without_its_upcast_step_fails_when_the_codec_is_built() -> None:
    class Skipped(DomainEvent):
        name = "Skipped"
        class_version = 2

    with pytest.raises(TypeError, match="Skipped is at class_version 2 but has no upcast_v1_v2"):
        EventCodec(Skipped)


def test_version_1_events_keep_their_stored_shape() -> None:
    """Every event that never changed is stored exactly as before versions existed (no version key)."""
    released = MonthlySettlementReleased(
        institution_id="H1", settlement_id="S1", released_on=date(2026, 6, 3), release_decision_id="R1",
        month="2026-05", amount=Decimal("10.00"), reason="paid",
    )
    assert codec.encode(released)[1][VERSION_KEY] == 2
    unversioned = [m for m in codec.models if m.class_version == 1]
    assert unversioned, "most settlement events are still at version 1"


def test_settlements_invoices_stored_by_the_previous_release_read_as_version_2() -> None:
    before_regions = {"invoice_id": "INV-1", "institution_id": "H1", "distributor_id": "D1", "amount": "5.00", "received_on": "2026-03-02"}
    assert codec.decode("InvoiceRecorded", before_regions) == InvoiceRecorded(
        invoice_id="INV-1", institution_id="H1", distributor_id="D1", amount=Decimal("5.00"), received_on=date(2026, 3, 2),
        pooling_region_code=None,
    )
    with_region = {**before_regions, "pooling_region_code": "520100"}
    decoded = codec.decode("InvoiceRecorded", with_region)
    assert isinstance(decoded, InvoiceRecorded) and decoded.pooling_region_code == "520100"


@pytest.mark.parametrize("service", ["contracts", "orders", "settlement", "alerts"])
def test_a_services_domain_layer_imports_no_io_library(service: str) -> None:
    """Domain logic is pure: importing every module of ``jicai_<service>.domain`` loads no database, Kafka or HTTP library."""
    script = (
        "import importlib, pkgutil, sys\n"
        f"import jicai_{service}.domain as d\n"
        "for m in pkgutil.iter_modules(d.__path__): importlib.import_module(d.__name__ + '.' + m.name)\n"
        "print(sorted(n for n in ('sqlalchemy', 'psycopg', 'aiokafka', 'fastapi', 'httpx', 'starlette') if n in sys.modules))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"
