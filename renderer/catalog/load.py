"""Catalog and overlay files in, one resolved specification per environment out.

Parsing (positions, schema) is separate from the rules and from rendering: everything here
collects problems and raises them all at once.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from renderer.catalog.nodes import PList, PMap
from renderer.catalog.positioned import load_documents
from renderer.catalog.schema import API_VERSION, CATALOG_SCHEMA, OVERLAY_SCHEMA
from renderer.catalog.schema_errors import schema_problems
from renderer.catalog.sources import Source, read_inputs
from renderer.errors import DbfleetError, Mark, Problem
from renderer.schemas.compiled import Compiled

NAMED_LISTS = ("backupStores", "clusters", "servers", "databases", "vclusters", "kubernetesClusters", "decommissioned")
ENTRY_NOUNS = {"backupStores": "backup store", "clusters": "cluster", "servers": "server", "databases": "database",
               "vclusters": "vCluster"}
DOCUMENT = {  # what a file of each folder holds, as messages tell users
    "Catalog": f"a Catalog document (apiVersion: {API_VERSION}, kind: Catalog, metadata.name: <fleet>, spec)",
    "Overlay": f"an Overlay document (apiVersion: {API_VERSION}, kind: Overlay, metadata.name: <environment>, spec)",
}
DEFAULT_ENV = "default"



@functools.cache
def _validator(kind: str, section: str | None = None) -> Compiled:
    """The schema of a document kind, or of one section of the catalog's spec (built once, when
    a catalog is first read: ``render --check`` with nothing changed reads none)."""
    if section is None:
        return Compiled(CATALOG_SCHEMA if kind == "Catalog" else OVERLAY_SCHEMA)
    schema = CATALOG_SCHEMA["properties"]["spec"]["properties"][section]
    return Compiled(schema["items"] if section in NAMED_LISTS else schema)


@dataclass
class Catalog:
    name: str
    spec: PMap
    overlays: dict[str, PMap] = field(default_factory=dict)
    sources: tuple[Source, ...] = ()
    # What loading found that does not stop the rules (warnings, values of the wrong format): it
    # is reported with the problems of every environment.
    problems: list[Problem] = field(default_factory=list)

    @property
    def environments(self) -> list[str]:
        return sorted(self.overlays) or [DEFAULT_ENV]


def _parse(sources: list[Source], kind: str, problems: list[Problem], later: list[Problem]) -> list[tuple[Source, PMap]]:
    """The documents of ``kind``; what stops them goes to ``problems``, what does not (warnings,
    values of the wrong format) to ``later``, reported with the rules' problems."""
    parsed = []
    expected = DOCUMENT[kind]
    for source in sources:
        docs, found = load_documents(source.text, source.name, expected)
        problems.extend(found)
        if not docs and not found:
            if source.text.strip():
                problems.append(Problem(Mark(source.name, 1, 1), f"the file holds only comments: write {expected} in it, or delete it"))
            else:
                later.append(Problem(Mark(source.name, 1, 1), "the file is empty: it is skipped", "warning"))
        for doc in docs:
            if not isinstance(doc, PMap):
                shown = "a list" if isinstance(doc, list) else repr(doc)
                problems.append(Problem(Mark(source.name, 1, 1), f"expected {expected}, not {shown}"))
                continue
            if doc.get("kind") != kind and doc.get("kind") in ("Catalog", "Overlay"):
                problems.append(
                    Problem(doc.keymarks["kind"], f"kind: {doc['kind']} is not expected here; this folder holds {kind} documents")
                )
                continue
            errors, formats = schema_problems(doc, _validator(kind))  # compiled only for a document of the kind
            problems.extend(errors)
            later.extend(formats)
            if not errors and not found:
                parsed.append((source, doc))
    return parsed


def merge_files(documents: list[tuple[Source, PMap]], problems: list[Problem]) -> tuple[str, PMap]:
    """Entries of every catalog file in one spec; a name or section defined twice is an error."""
    if not documents:
        return "", PMap(Mark("<catalog>", 0, 0))
    first_source, first = documents[0]
    fleet = first["metadata"]["name"]
    spec = PMap(first["spec"].mark)
    seen: dict[tuple[str, str], Mark] = {}
    for source, doc in documents:
        name = doc["metadata"]["name"]
        if name != fleet:
            problems.append(
                Problem(
                    doc["metadata"].keymarks["name"],
                    f"metadata.name: {name!r} differs from {fleet!r} in {first_source.name}; "
                    "all catalog files describe one fleet",
                )
            )
        for key, value in doc["spec"].items():
            mark = doc["spec"].keymarks[key]
            if key in NAMED_LISTS:
                merged = spec.setdefault(key, PList(value.mark))
                spec.keymarks.setdefault(key, mark)
                for item, item_mark in zip(value, value.itemmarks):
                    where = seen.get((key, item["name"]))
                    if where is not None:
                        problems.append(
                            Problem(
                                item.keymarks["name"],
                                f"{key}: {item['name']!r} is defined twice (first at {where})",
                            )
                        )
                        continue
                    seen[(key, item["name"])] = item.keymarks["name"]
                    merged.append(item)
                    merged.itemmarks.append(item_mark)
            elif key in spec:
                problems.append(
                    Problem(mark, f"{key}: defined twice (first at {spec.keymarks[key]})")
                )
            else:
                spec[key] = value
                spec.keymarks[key] = mark
    return fleet, spec


def load(
    catalog_paths: list[Path], overlay_paths: list[Path], base: Path, envs: list[str] | None = None
) -> Catalog:
    """Read, parse and check the structure of every input file; raise all problems at once."""
    return load_sources(*read_inputs(catalog_paths, overlay_paths, base), envs)


def load_sources(catalog_sources: list[Source], overlay_sources: list[Source], envs: list[str] | None = None) -> Catalog:
    """Parse and check the structure of files already read (from disk, or from a Git revision)."""
    problems: list[Problem] = []
    later: list[Problem] = []
    documents = _parse(catalog_sources, "Catalog", problems, later)
    overlay_docs = _parse(overlay_sources, "Overlay", problems, later)
    if not documents and not problems:
        where = Mark(catalog_sources[0].name, 1, 1) if len(catalog_sources) == 1 else Mark("catalog", 0, 0)
        problems.append(Problem(where, "no Catalog document: the catalog files are empty (dbfleet init writes a first catalog)"))
    fleet, spec = merge_files(documents, problems)
    overlays: dict[str, PMap] = {}
    for source, doc in overlay_docs:
        env = doc["metadata"]["name"]
        if env in overlays:
            problems.append(Problem(doc["metadata"].keymarks["name"], f"overlay {env!r} is defined twice"))
        overlays[env] = doc["spec"] if doc["spec"] is not None else PMap(doc.mark)
    if envs:
        known = sorted(overlays) or [DEFAULT_ENV]
        for env in envs:
            if env not in known:
                problems.append(Problem(Mark("--env", 0, 0), f"no environment {env!r}; known: {', '.join(known)}"))
        overlays = {k: v for k, v in overlays.items() if k in envs}
    if problems:  # the rules cannot read what these break; report what else was found too
        raise DbfleetError(problems + later)
    return Catalog(fleet, spec, overlays, tuple(catalog_sources + overlay_sources), later)


# --- overlays and defaults -------------------------------------------------------------------


def _is_named_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(i, dict) and "name" in i for i in value)


def merge(base: Any, over: Any) -> Any:
    """Maps deep-merge, lists of named entries merge by name, anything else replaces.

    A ``null`` in ``over`` removes the key.  Positions follow the value that won.
    """
    if isinstance(base, PMap) and isinstance(over, PMap):
        out = PMap(base.mark)
        for key, value in base.items():
            out[key] = value
            out.keymarks[key] = base.keymarks.get(key, base.mark)
        for key, value in over.items():
            if value is None:
                out.pop(key, None)
                out.keymarks.pop(key, None)
            elif key in out:
                out[key] = merge(out[key], value)
                out.keymarks[key] = over.keymarks.get(key, over.mark)
            else:
                out[key] = value
                out.keymarks[key] = over.keymarks.get(key, over.mark)
        return out
    if isinstance(base, PList) and isinstance(over, PList) and _is_named_list(base) and _is_named_list(over):
        out_list = PList(base.mark)
        index = {item["name"]: i for i, item in enumerate(over)}
        for item, mark in zip(base, base.itemmarks):
            i = index.pop(item["name"], None)
            out_list.append(item if i is None else merge(item, over[i]))
            out_list.itemmarks.append(mark)
        for item, mark in zip(over, over.itemmarks):
            if item["name"] in index:
                out_list.append(item)
                out_list.itemmarks.append(mark)
        return out_list
    return over


DEFAULTS_FOR = {
    "clusters": ("namespace", "backup", "storage", "resources", "monitoring", "scheduling", "pooler", "proxy", "tls",
                 "kubernetesCluster"),
    "databases": ("namespace", "backup", "monitoring", "proxy", "kubernetesCluster"),
}


# Fleet-wide defaults an engine has no use for (Kafka keeps data by replication, and so on).
NOT_INHERITED = {
    "kafka": ("backup", "pooler", "proxy"),
    # xdatabase-proxy v2.0.0 routes PostgreSQL only
    "mysql": ("proxy",),
    "mongodb": ("pooler", "proxy"),
    "sqlite": ("pooler", "proxy"),
}


def resolve(catalog: Catalog, env: str) -> PMap:
    """The spec of one environment: overlay merged over the catalog, defaults under each entry."""
    spec = catalog.spec
    overlay = catalog.overlays.get(env)
    if overlay is not None:
        spec = merge(spec, overlay)
    defaults = spec.get("defaults") or PMap(spec.mark)
    resolved = PMap(spec.mark)
    for key, value in spec.items():
        resolved[key] = value
        resolved.keymarks[key] = spec.keymarks[key]
        if key in DEFAULTS_FOR and isinstance(value, PList):
            applied = PList(value.mark)
            for item, mark in zip(value, value.itemmarks):
                under = PMap(item.mark)
                for name in DEFAULTS_FOR[key]:
                    if name in NOT_INHERITED.get(str(item.get("engine")), ()):
                        continue
                    if name in defaults:
                        under[name] = defaults[name]
                        under.keymarks[name] = defaults.keymarks[name]
                applied.append(merge(under, item))
                applied.itemmarks.append(mark)
            resolved[key] = applied
    return resolved


def revalidate(spec: PMap, overlay: PMap | None, base: PMap) -> tuple[list[Problem], list[Problem]]:
    """The schema again where an overlay changed the catalog (``base``): it can remove a required
    key, or add an entry that is not whole.

    Catalog files were validated whole when loaded, and defaults cannot break an entry (their
    schemas are the entries'), so only what the overlay touched needs another look."""
    if overlay is None:
        return [], []
    problems: list[Problem] = []
    formats: list[Problem] = []
    for key, value in overlay.items():
        merged = spec.get(key)
        if merged is None:
            continue
        validator = _validator("Catalog", key)
        if key in NAMED_LISTS:
            touched = {item["name"] for item in value}
            catalog_names = {entry["name"] for entry in base.get(key) or []}
            for i, item in enumerate(merged):
                if item.get("name") in touched:
                    found, wrong = schema_problems(item, validator, (key, i))
                    if found and item["name"] not in catalog_names:
                        found = [_unknown_entry(key, item, value, base.get(key) or [], found)]
                    problems += found
                    formats += wrong
        else:
            found, wrong = schema_problems(merged, validator, (key,))
            problems += found
            formats += wrong
    return problems, formats


def _unknown_entry(section: str, item: PMap, overlay_items: PList, catalog_items: list[Any], found: list[Problem]) -> Problem:
    """An overlay entry whose name the catalog does not have adds an entry: when it is not a whole
    entry, the name is most likely misspelt, so say that rather than what the entry lacks."""
    import difflib  # only for a name that is not known

    name = item["name"]
    index = next(i for i, entry in enumerate(overlay_items) if entry["name"] == name)
    known = [str(entry["name"]) for entry in catalog_items]
    close = difflib.get_close_matches(str(name), known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else (f"; it has: {', '.join(known)}" if known else "")
    lacking = "; ".join(problem.message.split(": ", 1)[-1] for problem in found)
    what = ENTRY_NOUNS[section]
    return Problem(item.keymarks["name"],
                   f"{section}[{index}].name: the catalog has no {what} {name!r}{hint}; an overlay entry with a new "
                   f"name adds a {what}, and this one is incomplete: {lacking}")


def with_schema_defaults(value: Any, schema: dict[str, Any] = CATALOG_SCHEMA["properties"]["spec"]) -> Any:
    """A plain copy where every property the schema declares is present: templates can use
    StrictUndefined and still test optional fields.  An absent object becomes an object of
    defaults, unless it has required keys: then it is ``None``, "not asked for"."""
    return _filled(value, _defaults_of(schema))


class _Defaults:
    """What ``with_schema_defaults`` reads of one schema, read once (45,000 values at 1,000
    clusters: looking the schema up each time cost half the work)."""

    __slots__ = ("properties", "absent", "items", "quantities")

    def __init__(self) -> None:
        self.properties: dict[str, _Defaults] = {}
        # Each declared key, what stands in for it when absent, and the _Defaults to fill that with.
        self.absent: list[tuple[str, Any, _Defaults]] = []
        self.items: _Defaults | None = None
        self.quantities: list[str] = []  # keys whose value is a Kubernetes quantity


_LIST = object()  # an absent array: a new empty list
_DEFAULTS: dict[int, tuple[dict[str, Any], _Defaults]] = {}  # by the schema's id (the schema, kept alive)


def _defaults_of(schema: dict[str, Any]) -> _Defaults:
    known = _DEFAULTS.get(id(schema))
    if known is not None and known[0] is schema:
        return known[1]
    defaults = _Defaults()
    _DEFAULTS[id(schema)] = (schema, defaults)  # before the properties: a schema may hold itself
    effective = schema["anyOf"][0] if "anyOf" in schema else schema
    for key, sub in effective.get("properties", {}).items():
        of = defaults.properties[key] = _defaults_of(sub)
        if "default" in sub:
            stand_in = sub["default"]
        elif sub.get("type") == "object" and "properties" in sub and "required" not in sub:
            stand_in = {}
        else:
            stand_in = _LIST if sub.get("type") == "array" else None
        defaults.absent.append((key, stand_in, of))
        if sub.get("title") == "quantity":
            defaults.quantities.append(key)
    if "items" in effective:
        defaults.items = _defaults_of(effective["items"])
    return defaults


_NOTHING = _Defaults()  # a value the schema says nothing of: copied as it is


def _filled(value: Any, defaults: _Defaults) -> Any:
    """A copy of ``value`` (plain dicts and lists, new ones: a default is never shared)."""
    if isinstance(value, dict):
        properties = defaults.properties
        # Most values are scalars, kept as they are without a call (a third of the time).
        out = {key: _filled(item, properties.get(key, _NOTHING)) if isinstance(item, _COLLECTIONS) else item
               for key, item in value.items()}
        for key, stand_in, of in defaults.absent:
            if key not in out:
                out[key] = [] if stand_in is _LIST else _filled(stand_in, of)
        # A quantity written as a number (size: 1, cpu: 0.5) becomes its text, as Kubernetes reads
        # it: some fields take only a string (CloudNativePG's storage.size).  Python's shortest
        # form (0.5, 1e+20) is a quantity's syntax; the loader refused infinity and NaN.
        for key in defaults.quantities:
            amount = out[key]
            if type(amount) is int or type(amount) is float:
                out[key] = str(amount)
        return out
    if isinstance(value, list):
        items = defaults.items or _NOTHING
        return [_filled(item, items) if isinstance(item, _COLLECTIONS) else item for item in value]
    return value


_COLLECTIONS = (dict, list)
