"""The catalog's field reference as Markdown, generated from its JSON Schema (docs/catalog.md)."""
from __future__ import annotations

from typing import Any, Iterator

from renderer.catalog.schema import API_VERSION, CATALOG_SCHEMA

HEADER = f"""\
# Catalog fields

Generated from the catalog's JSON Schema by `dbfleet schema --format markdown`; do not edit.
Catalog files (`catalog/*.yaml`) are `apiVersion: {API_VERSION}`, `kind: Catalog` documents
with `metadata.name` (the fleet) and the `spec` below. Overlays (`overlays/<env>.yaml`, `kind:
Overlay`, `metadata.name` = the environment) have the same fields, none required, and `null`
removes a value. `[]` marks a list's entries. A quantity is written as Kubernetes writes one
(`20Gi`, `500m`, `2`); a number left unquoted (`2`, `0.5`) is taken as its text. `dbfleet schema
[--kind Overlay]` prints the JSON Schema itself, for editors.

| field | type | default | description |
|---|---|---|---|
"""


def _type(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        return " \\| ".join(f"`{value}`" for value in schema["enum"])
    kind = schema.get("type", "")
    if "title" in schema:  # a format: DNS-1123 label, quantity ...
        return str(schema["title"])
    if kind == "array":
        return f"list of {_type(schema.get('items') or {})}" if "properties" not in (schema.get("items") or {}) else "list"
    if kind == "object" and "properties" not in schema:
        return "map"
    return "/".join(kind) if isinstance(kind, list) else str(kind)


def _default(schema: dict[str, Any]) -> str:
    if "default" not in schema:
        return ""
    value = schema["default"]
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, dict):
        return "`{" + ", ".join(f"{k}: {v}" for k, v in value.items()) + "}`"
    return f"`{value}`"


def _rows(schema: dict[str, Any], path: str) -> Iterator[str]:
    for name, sub in (schema.get("properties") or {}).items():
        where = f"{path}.{name}" if path else name
        description = str(sub.get("description", "")).replace("|", "\\|")
        if sub.get("required"):
            description += f" Requires: {', '.join(sub['required'])}."
        yield f"| `{where}` | {_type(sub)} | {_default(sub)} | {description} |\n"
        if sub.get("type") == "array" and "properties" in (sub.get("items") or {}):
            items = sub["items"]
            if items.get("required"):
                yield f"| `{where}[]` | object | | Requires: {', '.join(items['required'])}. |\n"
            yield from _rows(items, f"{where}[]")
        elif "properties" in sub:
            yield from _rows(sub, where)


def markdown() -> str:
    return HEADER + "".join(_rows(CATALOG_SCHEMA["properties"]["spec"], ""))
