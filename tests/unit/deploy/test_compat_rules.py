"""The rules that tell a breaking contract change from an additive one, on small schemas."""
from __future__ import annotations

from typing import Any

import pytest

from jicai_devstack.compat import event_breaks, openapi_breaks

Schema = dict[str, Any]


def _event(**props: Schema) -> Schema:
    base: Schema = {
        "type": "object", "additionalProperties": False, "required": ["invoice_id", "amount"],
        "properties": {
            "invoice_id": {"type": "string", "maxLength": 64},
            "amount": {"type": "string", "pattern": r"^\d+\.\d{2}$"},
            "channel": {"enum": ["platform", "offline"], "type": "string", "default": "platform"},
            "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
            "lines": {"type": "array", "items": {"$ref": "#/$defs/Line"}},
        },
        "$defs": {"Line": {"type": "object", "required": ["quantity"], "properties": {"quantity": {"type": "integer", "minimum": 0}}}},
    }
    base["properties"].update(props)
    return base


def _breaks(new: Schema) -> list[str]:
    return event_breaks(_event(), new, "event E")


def test_an_unchanged_event_or_one_with_a_new_optional_field_or_other_words_is_not_breaking() -> None:
    assert _breaks(_event()) == []
    assert _breaks(_event(payer_reference={"type": "string"})) == []
    reworded = _event()
    reworded["properties"]["invoice_id"]["description"] = "the distributor's invoice id"
    assert _breaks(reworded) == []


def test_an_event_field_removed_is_breaking() -> None:
    new = _event()
    del new["properties"]["note"]
    assert _breaks(new) == ["event E.note: removed"]


def test_a_new_required_event_field_or_one_made_required_is_breaking() -> None:
    new = _event(payer_reference={"type": "string"})
    new["required"] += ["payer_reference", "channel"]
    assert _breaks(new) == ["event E.channel: newly required", "event E.payer_reference: newly required"]


def test_an_event_field_that_may_now_be_absent_is_breaking() -> None:
    new = _event()
    new["required"] = ["invoice_id"]
    assert _breaks(new) == ["event E.amount: may now be absent"]


@pytest.mark.parametrize(
    ("field", "schema", "finding"),
    [
        ("note", {"type": "string"}, "event E.note: no longer accepts null"),
        ("note", {"anyOf": [{"type": "integer"}, {"type": "null"}]}, "event E.note: no longer accepts string"),
        ("invoice_id", {"type": "string", "maxLength": 32}, "event E.invoice_id: maxLength tightened from 64 to 32"),
        ("channel", {"enum": ["platform"], "type": "string"}, "event E.channel: allowed values narrowed to ['platform']"),
        # widening is breaking too: a reader not yet redeployed refuses the new value
        ("channel", {"enum": ["platform", "offline", "filing"], "type": "string"}, "event E.channel: may now hold values"),
        ("invoice_id", {"type": "string", "maxLength": 128}, "event E.invoice_id: maxLength loosened from 64 to 128"),
        ("amount", {"type": "string", "pattern": r"^\d+\.\d{4}$"}, "event E.amount: pattern changed"),
    ],
)
def test_an_event_field_whose_values_change_either_way_is_breaking(field: str, schema: Schema, finding: str) -> None:
    found = _breaks(_event(**{field: schema}))
    assert any(f.startswith(finding) for f in found), found


def test_a_change_inside_a_nested_definition_is_found_where_it_is_used() -> None:
    new = _event()
    new["$defs"]["Line"]["properties"]["quantity"]["minimum"] = 1
    assert _breaks(new) == ["event E.lines[].quantity: minimum tightened from 0 to 1"]


def _api(params: list[Schema] | None = None, body: Schema | None = None, out: Schema | None = None, **paths: Schema) -> Schema:
    payment_in = body or {"type": "object", "additionalProperties": False, "required": ["amount"],
                          "properties": {"amount": {"type": "string", "maxLength": 20}, "memo": {"type": "string"}}}
    payment_out = out or {"type": "object", "required": ["payment_id", "amount"],
                          "properties": {"payment_id": {"type": "string"}, "amount": {"type": "string"},
                                         "status": {"enum": ["recorded", "void"], "type": "string"}}}
    ok = {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PaymentOut"}}}}}
    doc: Schema = {
        "paths": {
            "/payments": {"post": {
                "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PaymentIn"}}}},
                "responses": {"201": ok["200"], "422": {"description": "problem"}},
            }},
            "/payments/{payment_id}": {"get": {
                "parameters": params if params is not None else [
                    {"in": "path", "name": "payment_id", "required": True, "schema": {"type": "string"}},
                    {"in": "query", "name": "as_of", "required": False, "schema": {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]}},
                ],
                "responses": ok,
            }},
        },
        "components": {"schemas": {"PaymentIn": payment_in, "PaymentOut": payment_out}},
    }
    doc["paths"].update(paths)
    return doc


def _api_breaks(new: Schema) -> list[str]:
    return openapi_breaks(_api(), new, "settlement API")


def test_an_unchanged_api_or_one_with_a_new_endpoint_optional_parameter_or_response_field_is_not_breaking() -> None:
    assert _api_breaks(_api()) == []
    new = _api()
    new["paths"]["/refunds"] = {"get": {"responses": {}}}
    new["paths"]["/payments/{payment_id}"]["get"]["parameters"].append({"in": "query", "name": "currency", "schema": {"type": "string"}})
    new["components"]["schemas"]["PaymentOut"]["properties"]["paid_on"] = {"type": "string", "format": "date"}
    new["components"]["schemas"]["PaymentIn"]["properties"]["amount"]["maxLength"] = 40  # a request may widen
    assert _api_breaks(new) == []


def test_a_removed_endpoint_or_method_is_breaking() -> None:
    new = _api()
    del new["paths"]["/payments/{payment_id}"]
    assert _api_breaks(new) == ["settlement API GET /payments/{payment_id}: removed"]


def test_a_removed_or_newly_required_parameter_is_breaking() -> None:
    path_only = [{"in": "path", "name": "payment_id", "required": True, "schema": {"type": "string"}}]
    assert _api_breaks(_api(params=path_only)) == ["settlement API GET /payments/{payment_id}: query parameter as_of removed"]
    required = path_only + [{"in": "query", "name": "as_of", "required": True, "schema": {"type": "string", "format": "date"}},
                            {"in": "header", "name": "x-region", "required": True, "schema": {"type": "string"}}]
    assert _api_breaks(_api(params=required)) == [
        "settlement API GET /payments/{payment_id}: query parameter as_of newly required",
        "settlement API GET /payments/{payment_id}: query parameter as_of: no longer accepts null",
        "settlement API GET /payments/{payment_id}: new required header parameter x-region",
    ]


def test_a_narrowed_request_is_breaking() -> None:
    body = _api()["components"]["schemas"]["PaymentIn"]
    body["properties"]["amount"]["maxLength"] = 10
    body["properties"]["currency"] = {"type": "string"}
    body["required"].append("currency")
    del body["properties"]["memo"]  # unknown fields are refused, so a client still sending memo now fails
    assert _api_breaks(_api(body=body)) == [
        "settlement API POST /payments: request.memo: removed, and unknown fields are refused",
        "settlement API POST /payments: request.currency: newly required",
        "settlement API POST /payments: request.amount: maxLength tightened from 20 to 10",
    ]


def test_a_narrowed_response_is_breaking_wherever_it_is_returned() -> None:
    out = _api()["components"]["schemas"]["PaymentOut"]
    del out["properties"]["amount"]
    out["properties"]["status"]["enum"].append("refunded")
    assert _api_breaks(_api(out=out)) == [
        "settlement API POST /payments: response 201.amount: removed",
        "settlement API POST /payments: response 201.status: may now hold values outside ['recorded', 'void']",
        "settlement API GET /payments/{payment_id}: response 200.amount: removed",
        "settlement API GET /payments/{payment_id}: response 200.status: may now hold values outside ['recorded', 'void']",
    ]


def test_a_removed_success_response_is_breaking() -> None:
    new = _api()
    new["paths"]["/payments"]["post"]["responses"]["200"] = new["paths"]["/payments"]["post"]["responses"].pop("201")
    assert _api_breaks(new) == ["settlement API POST /payments: response 201 removed"]


def test_a_recursive_schema_is_compared_once_around_its_cycle() -> None:
    tree: Schema = {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/components/schemas/PaymentOut"}},
                                                   "name": {"type": "string"}}}
    smaller = {**tree, "properties": {"children": tree["properties"]["children"]}}
    assert openapi_breaks(_api(out=tree), _api(out=smaller), "api") == [
        "api POST /payments: response 201.name: removed",
        "api GET /payments/{payment_id}: response 200.name: removed",
    ]


def test_a_schema_recursive_through_an_optional_field_is_compared_once_around_its_cycle() -> None:
    node: Schema = {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string"}, "parent": {"anyOf": [{"$ref": "#/components/schemas/PaymentOut"}, {"type": "null"}]}}}
    renamed = {**node, "required": [], "properties": {**node["properties"], "name": {"type": "string", "maxLength": 8}}}
    assert openapi_breaks(_api(out=node), _api(out=renamed), "api") == [
        "api POST /payments: response 201.name: may now be absent",
        "api GET /payments/{payment_id}: response 200.name: may now be absent",
    ]
