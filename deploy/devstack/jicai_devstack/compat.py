"""Breaking changes between two versions of a contract: an event's JSON Schema, or a service's OpenAPI document.

Hand-written because no well-kept Python library does it (oasdiff is Go; the
PyPI packages that claim it are young single-author projects), and the rules
we need are few. Each rule asks who could break:

- a request (``INPUT``): the new version must accept everything the old one
  did: no new required field or parameter, no removed field where unknown
  fields are refused, no narrowed type, enum, bound, pattern or format;
- a response (``OUTPUT``): the new version must produce only what the old one
  promised: no removed field, no field that may now be absent, no widened type
  or enum. New optional fields are fine: clients ignore what they don't know;
- an event (``BOTH``): stored and in-flight events are read by the new readers
  and new events by the old ones (rolling deploys), so an existing field may
  change in neither direction; only new optional fields are additive.

Schemas the rules cannot compare (different unions) count as breaking: a
false alarm costs one ``make contracts``, a missed break costs a dead letter.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Flag, auto
from typing import Any

Schema = dict[str, Any]


class Direction(Flag):
    INPUT = auto()
    OUTPUT = auto()
    BOTH = INPUT | OUTPUT


LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
EXACT = ("pattern", "format", "multipleOf")
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


@dataclass
class _Docs:
    """The two documents a comparison resolves ``$ref`` pointers in, and the references being compared (for cycles)."""

    old: Schema
    new: Schema
    active: set[tuple[str, str, int]] = field(default_factory=set)


def _resolve(root: Schema, schema: Schema) -> Schema:
    """Follow ``$ref`` (and a lone ``allOf`` wrapping one) to the schema it names."""
    while "$ref" in schema or len(schema.get("allOf", [])) == 1:
        if "$ref" not in schema:
            schema = {**schema["allOf"][0], **{k: v for k, v in schema.items() if k != "allOf"}}
            continue
        ref = schema["$ref"]
        if not ref.startswith("#/"):
            raise ValueError(f"only local references are compared, not {ref}")
        node: Any = root
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        schema = {**node, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _branches(schema: Schema) -> list[Schema]:
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return [b for s in schema[key] for b in _branches(s)]
    return [schema]


def _types(root: Schema, schema: Schema) -> set[str] | None:
    """The JSON types a schema admits; None when it admits any."""
    found: set[str] = set()
    for branch in _branches(schema):
        branch = _resolve(root, branch)
        if "type" in branch:
            found |= set(branch["type"] if isinstance(branch["type"], list) else [branch["type"]])
        elif "properties" in branch:
            found.add("object")
        elif "const" in branch or "enum" in branch:
            found |= {_json_type(v) for v in branch.get("enum", [branch.get("const")])}
        else:
            return None
    return found


def _json_type(value: object) -> str:
    names = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object", type(None): "null"}
    return names[type(value)]


def _covers(types: set[str] | None, other: set[str] | None) -> set[str]:
    """The types of ``other`` that ``types`` does not admit (an integer is a number)."""
    if types is None:
        return set()
    if other is None:
        return {"any type"}
    return {t for t in other if t not in types and not (t == "integer" and "number" in types)}


def _values(schema: Schema) -> set[Any] | None:
    if "const" in schema:
        return {_hashable(schema["const"])}
    if "enum" in schema:
        return {_hashable(v) for v in schema["enum"]}
    return None


def _hashable(value: Any) -> Any:
    return repr(value) if isinstance(value, dict | list) else value


def compare_schemas(old: Schema, new: Schema, direction: Direction, where: str, docs: _Docs) -> list[str]:
    """What breaks between ``old`` and ``new`` for ``direction``, each finding prefixed with ``where``."""
    key = (old.get("$ref", ""), new.get("$ref", ""), direction.value)
    if key[:2] != ("", "") and key in docs.active:
        return []  # a recursive schema, already being compared further up
    docs.active.add(key)
    try:
        return _compare_any(old, new, direction, where, docs)
    finally:
        docs.active.discard(key)


def _compare_any(old: Schema, new: Schema, direction: Direction, where: str, docs: _Docs) -> list[str]:
    out: list[str] = []
    old_types, new_types = _types(docs.old, old), _types(docs.new, new)
    if Direction.INPUT in direction and (lost := _covers(new_types, old_types)):
        out.append(f"{where}: no longer accepts {', '.join(sorted(lost))}")
    if Direction.OUTPUT in direction and (gained := _covers(old_types, new_types)):
        out.append(f"{where}: may now be {', '.join(sorted(gained))}")
    old_real = [b for b in _branches(old) if _resolve(docs.old, b).get("type") != "null"]
    new_real = [b for b in _branches(new) if _resolve(docs.new, b).get("type") != "null"]
    if len(old_real) == 1 and len(new_real) == 1:
        if old_real[0] is old and new_real[0] is new:
            out += _compare_one(_resolve(docs.old, old), _resolve(docs.new, new), direction, where, docs)
        else:  # the one non-null alternative of each: through compare_schemas, which stops a recursive $ref
            out += compare_schemas(old_real[0], new_real[0], direction, where, docs)
    elif [_resolve(docs.old, b) for b in old_real] != [_resolve(docs.new, b) for b in new_real]:
        out.append(f"{where}: its alternatives changed (compare by hand, then accept)")
    return out


def _compare_one(old: Schema, new: Schema, direction: Direction, where: str, docs: _Docs) -> list[str]:
    out = _compare_values(old, new, direction, where)
    if "properties" in old or "properties" in new:
        out += _compare_objects(old, new, direction, where, docs)
    if "items" in old and "items" in new:
        out += compare_schemas(old["items"], new["items"], direction, f"{where}[]", docs)
    return out


def _compare_values(old: Schema, new: Schema, direction: Direction, where: str) -> list[str]:
    out: list[str] = []
    old_values, new_values = _values(old), _values(new)
    if Direction.INPUT in direction and new_values is not None and (old_values is None or old_values - new_values):
        out.append(f"{where}: allowed values narrowed to {sorted(map(str, new_values))}")
    if Direction.OUTPUT in direction and old_values is not None and (new_values is None or new_values - old_values):
        out.append(f"{where}: may now hold values outside {sorted(map(str, old_values))}")
    for bound in LOWER_BOUNDS + UPPER_BOUNDS:
        was, now = old.get(bound), new.get(bound)
        if was == now:
            continue
        tighter = now is not None and (was is None or (now > was if bound in LOWER_BOUNDS else now < was))
        if Direction.INPUT in direction and tighter:
            out.append(f"{where}: {bound} tightened from {was} to {now}")
        if Direction.OUTPUT in direction and not tighter:
            out.append(f"{where}: {bound} loosened from {was} to {now}")
    for keyword in EXACT:
        was, now = old.get(keyword), new.get(keyword)
        if was != now and ((Direction.INPUT in direction and now is not None) or (Direction.OUTPUT in direction and was is not None)):
            out.append(f"{where}: {keyword} changed from {was!r} to {now!r}")
    return out


def _compare_objects(old: Schema, new: Schema, direction: Direction, where: str, docs: _Docs) -> list[str]:
    out: list[str] = []
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
    for name in sorted(old_props.keys() - new_props.keys()):
        if Direction.OUTPUT in direction:
            out.append(f"{where}.{name}: removed")
        elif new.get("additionalProperties") is False:
            out.append(f"{where}.{name}: removed, and unknown fields are refused")
    if Direction.INPUT in direction:
        out += [f"{where}.{name}: newly required" for name in sorted(new_required - old_required)]
    if Direction.OUTPUT in direction:
        out += [f"{where}.{name}: may now be absent" for name in sorted((old_required - new_required) & new_props.keys())]
    for name in sorted(old_props.keys() & new_props.keys()):
        out += compare_schemas(old_props[name], new_props[name], direction, f"{where}.{name}", docs)
    return out


def event_breaks(old: Schema, new: Schema, where: str) -> list[str]:
    """Breaking changes of one event's (or the envelope's) JSON Schema."""
    return _unique(compare_schemas(old, new, Direction.BOTH, where, _Docs(old, new)))


def openapi_breaks(old: Schema, new: Schema, where: str) -> list[str]:
    """Breaking changes of a service's OpenAPI document for the clients of the old one."""
    docs = _Docs(old, new)
    out: list[str] = []
    for path, old_item in old.get("paths", {}).items():
        new_item = new.get("paths", {}).get(path, {})
        for method in HTTP_METHODS:
            if method not in old_item:
                continue
            at = f"{where} {method.upper()} {path}"
            if method not in new_item:
                out.append(f"{at}: removed")
                continue
            out += _operation_breaks(old_item[method], new_item[method], at, docs)
    return _unique(out)


def _operation_breaks(old: Schema, new: Schema, at: str, docs: _Docs) -> list[str]:
    out: list[str] = []
    old_params = {(p["in"], p["name"]): _resolve(docs.old, p) for p in old.get("parameters", [])}
    new_params = {(p["in"], p["name"]): _resolve(docs.new, p) for p in new.get("parameters", [])}
    for (place, name), param in sorted(old_params.items()):
        if (place, name) not in new_params:
            out.append(f"{at}: {place} parameter {name} removed")
            continue
        now = new_params[(place, name)]
        if now.get("required") and not param.get("required"):
            out.append(f"{at}: {place} parameter {name} newly required")
        out += compare_schemas(param.get("schema", {}), now.get("schema", {}), Direction.INPUT, f"{at}: {place} parameter {name}", docs)
    out += [f"{at}: new required {place} parameter {name}" for (place, name), p in sorted(new_params.items())
            if (place, name) not in old_params and p.get("required")]
    old_body, new_body = old.get("requestBody"), new.get("requestBody")
    if new_body is not None:
        if new_body.get("required") and not (old_body or {}).get("required"):
            out.append(f"{at}: request body newly required")
        for media, content in (old_body or {}).get("content", {}).items():
            if media not in new_body.get("content", {}):
                out.append(f"{at}: request body {media} no longer accepted")
            else:
                out += compare_schemas(content.get("schema", {}), new_body["content"][media].get("schema", {}), Direction.INPUT,
                                       f"{at}: request", docs)
    for status, response in old.get("responses", {}).items():
        if not str(status).startswith("2"):
            continue
        if status not in new.get("responses", {}):
            out.append(f"{at}: response {status} removed")
            continue
        for media, content in response.get("content", {}).items():
            now_content = new["responses"][status].get("content", {})
            if media not in now_content:
                out.append(f"{at}: response {status} {media} removed")
            elif "schema" in content:
                out += compare_schemas(content["schema"], now_content[media].get("schema", {}), Direction.OUTPUT,
                                       f"{at}: response {status}", docs)
    return out


def _unique(findings: list[str]) -> list[str]:
    return list(dict.fromkeys(findings))
