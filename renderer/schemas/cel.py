"""The CEL rules of a CRD schema (``x-kubernetes-validations``), checked as the API server would
before it stores an object: each rule on every node of the object its schema node describes.

Rules that compare with the stored object (``oldSelf``, transition rules) cannot be checked before
a sync and are skipped.  An outcome is known by the rule and the node: ``Outcomes`` keeps them,
across kinds and (through the unit cache) across runs, so cel-python (celeval.py, 0.1 s to import)
loads only when a rule meets a node it has not met.
"""
from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any, Iterator

# ("property", name) | ("items", "") | ("values", ""), with the schema of the node the step leaves
Step = tuple[str, str, dict[str, Any]]
# True: the rule holds; False: the node breaks it; a string: why the rule cannot be evaluated on it
Outcome = bool | str


@dataclass
class Rule:
    path: tuple[Step, ...]
    rule: str
    message: str
    # The fields of ``self`` the rule reads, when it reads nothing else of it: the node is cut to
    # them, so nodes that agree on them share one evaluation (cel-python takes about 0.5 ms each).
    fields: frozenset[str] | None = None


_SELF = re.compile(r"\bself\b(?:\.([A-Za-z_][A-Za-z0-9_]*)(\s*\()?)?")


def _fields(rule: str) -> frozenset[str] | None:
    fields = set()
    for found in _SELF.finditer(rule):
        if found.group(1) is None or found.group(2):  # self itself, or a method of it (self.all(...))
            return None
        fields.add(found.group(1))
    return frozenset(fields)


def _collect(schema: Any, path: tuple[Step, ...] = ()) -> Iterator[Rule]:
    if not isinstance(schema, dict):
        return
    for found in schema.get("x-kubernetes-validations") or []:
        rule = str(found.get("rule", ""))
        if "oldSelf" not in rule:  # a transition rule: it needs the stored object
            yield Rule(path, rule, str(found.get("message") or f"failed rule: {rule}"), fields=_fields(rule))
    for name, sub in (schema.get("properties") or {}).items():
        yield from _collect(sub, (*path, ("property", name, schema)))
    if isinstance(schema.get("items"), dict):
        yield from _collect(schema["items"], (*path, ("items", "", schema)))
    if isinstance(schema.get("additionalProperties"), dict):
        yield from _collect(schema["additionalProperties"], (*path, ("values", "", schema)))


def _nodes(value: Any, schema: Any, path: tuple[Step, ...], shown: tuple[Any, ...] = ()
           ) -> Iterator[tuple[tuple[Any, ...], Any, Any]]:
    """The nodes of an object at a schema path, with their paths in the object and their schemas;
    the schema's defaults are filled in along the path, as the API server fills them."""
    if not path:
        yield shown, value, schema
        return
    (kind, name, parent), rest = path[0], path[1:]
    if kind == "property" and isinstance(value, dict):
        sub = parent["properties"][name]
        if name in value:
            yield from _nodes(value[name], sub, rest, (*shown, name))
        elif isinstance(sub, dict) and "default" in sub:
            yield from _nodes(copy.deepcopy(sub["default"]), sub, rest, (*shown, name))
    elif kind == "items" and isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nodes(item, parent["items"], rest, (*shown, index))
    elif kind == "values" and isinstance(value, dict):  # (a structural schema has no properties beside)
        for key, item in value.items():
            yield from _nodes(item, parent["additionalProperties"], rest, (*shown, key))


def _fields_defaulted(schema: Any, node: dict[str, Any], fields: frozenset[str]) -> dict[str, Any]:
    """``defaulted(schema, node)`` cut to ``fields``: only they are defaulted (defaulting a whole
    Cluster's spec for a rule that reads two of its fields cost more than the rule)."""
    properties = (schema.get("properties") or {}) if isinstance(schema, dict) else {}
    extra = schema.get("additionalProperties") if isinstance(schema, dict) else None
    out = {}
    for name in fields:
        sub = properties.get(name)
        if name in node:
            out[name] = defaulted(sub if name in properties else extra, node[name])
        elif isinstance(sub, dict) and "default" in sub:
            out[name] = defaulted(sub, copy.deepcopy(sub["default"]))
    return out


# self == 'literal', self != 'literal': most rules met per object (CNPG's reserved database names).
_STRING_TEST = re.compile(r"""\A\s*self\s*(==|!=)\s*(?:'([^'\\\n]*)'|"([^"\\\n]*)")\s*\Z""")


def _direct(rule: str, node: Any) -> Outcome | None:
    """The outcome of a string comparison with a literal, as CEL has it (strings are equal when
    their code points are), without cel-python; None for any other rule or node."""
    found = _STRING_TEST.match(rule)
    if found is None or not isinstance(node, str):
        return None
    literal = found.group(2) if found.group(2) is not None else found.group(3)
    return (node == literal) == (found.group(1) == "==")


# json.dumps(node, sort_keys=True, default=str), with one encoder: dumps makes one for each call
# given options (14,000 nodes in a render of 1,000 clusters).
_canonical = json.JSONEncoder(sort_keys=True, default=str).encode


class Outcomes:
    """Outcomes by (rule, node as canonical JSON): those ``known`` from before, and those this run
    ``used`` (what the unit cache keeps for the next)."""

    def __init__(self, known: dict[tuple[str, str], Outcome] | None = None) -> None:
        self.known = known or {}
        self.used: dict[tuple[str, str], Outcome] = {}

    def of(self, rule: str, node: Any) -> Outcome:
        key = (rule, _canonical(node))
        found = self.used.get(key)
        if found is None:
            found = self.known.get(key)
            if found is None:
                found = _direct(rule, node)
            if found is None:
                from renderer.schemas.celeval import outcome

                found = outcome(rule, node)
            self.used[key] = found
        return found


class CelRules:
    """The rules of one schema."""

    def __init__(self, schema: dict[str, Any], outcomes: Outcomes) -> None:
        self.schema = schema
        self.rules = list(_collect(schema))
        self.outcomes = outcomes

    def violations(self, obj: Any) -> Iterator[tuple[tuple[Any, ...], str]]:
        """(path in the object, message) for each rule a node breaks, or cannot be evaluated on;
        on the object as the API server sees it, with the schema's defaults filled in."""
        for rule in self.rules:
            for where, node, schema in _nodes(obj, self.schema, rule.path):
                if rule.fields is not None and isinstance(node, dict):
                    node = _fields_defaulted(schema, node, rule.fields)
                else:
                    node = defaulted(schema, node)
                found = self.outcomes.of(rule.rule, node)
                if found is False:
                    yield where, rule.message
                elif found is not True:  # the API server refuses an object its rule cannot be evaluated on, too
                    yield where, f"{rule.message} (the rule {rule.rule!r} cannot be evaluated: {found})"


def defaulted(schema: Any, value: Any) -> Any:
    """``value`` with the schema's defaults where a property is absent, as the API server fills them."""
    if not isinstance(schema, dict):
        return value
    if isinstance(value, dict):
        out = dict(value)
        for name, sub in (schema.get("properties") or {}).items():
            if name in out:
                out[name] = defaulted(sub, out[name])
            elif isinstance(sub, dict) and "default" in sub:
                out[name] = defaulted(sub, copy.deepcopy(sub["default"]))
        if isinstance(schema.get("additionalProperties"), dict):
            known = schema.get("properties") or {}
            for name in out:
                if name not in known:
                    out[name] = defaulted(schema["additionalProperties"], out[name])
        return out
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [defaulted(schema["items"], item) for item in value]
    return value
