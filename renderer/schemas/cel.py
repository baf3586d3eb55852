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
from typing import Any, Callable, Iterator

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
    properties: bool = False  # the path is of properties only (_property_nodes)


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
            yield Rule(path, rule, str(found.get("message") or f"failed rule: {rule}"), fields=_fields(rule),
                       properties=all(step == "property" for step, _, _ in path))
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


def _property_nodes(value: Any, schema: Any, path: tuple[Step, ...]) -> tuple[tuple[tuple[Any, ...], Any, Any], ...]:
    """``_nodes`` of a path of properties only (most rules'): at most one node, found without a
    generator for each step."""
    shown = []
    for _, name, parent in path:
        if not isinstance(value, dict):
            return ()
        schema = parent["properties"][name]
        if name in value:
            value = value[name]
        elif isinstance(schema, dict) and "default" in schema:
            value = copy.deepcopy(schema["default"])
        else:
            return ()
        shown.append(name)
    return ((tuple(shown), value, schema),)


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


# Rules made of has(self.a.b), self.a == 'text' (or !=), a boolean field self.a, and !, &&, || and
# parentheses: most rules met (CNPG's reserved database names, its image and locale rules) are
# decided here, without cel-python, when their fields hold what the rule expects.
_TOKEN = re.compile(r"""\s*(?:(\|\||&&|==|!=|!|\(|\))|has\(self((?:\.[A-Za-z_][A-Za-z0-9_]*)+)\)"""
                    r"""|self((?:\.[A-Za-z_][A-Za-z0-9_]*)*)(?![A-Za-z0-9_(])|'([^'\\\n]*)'|"([^"\\\n]*)")""")
# ("or" | "and", left, right), ("not", operand), ("has", path), ("is", path, text, equal), ("true", path)
Expression = tuple[Any, ...]
_PARSED: dict[str, Expression | None] = {}


class _Unsupported(Exception):
    """A rule outside what _decided reads: cel-python evaluates it."""


def _parse(rule: str) -> Expression | None:
    """The rule as an expression ``_decided`` evaluates; None for any other rule."""
    if rule not in _PARSED:
        tokens: list[tuple[str, Any]] = []
        at = 0
        rule_end = len(rule.rstrip())
        while at < rule_end:
            found = _TOKEN.match(rule, at)
            if found is None or found.end() == at:
                tokens = []
                break
            operator, has, member, single, double = found.groups()
            tokens.append(("op", operator) if operator else ("has", has) if has else ("member", member)
                          if member is not None else ("text", single if single is not None else double))
            at = found.end()
        try:
            parsed, rest = _or(tokens) if tokens else (None, [])
            _PARSED[rule] = parsed if not rest else None
        except _Unsupported:
            _PARSED[rule] = None
    return _PARSED[rule]


Tokens = list[tuple[str, Any]]


def _or(tokens: Tokens) -> tuple[Expression, Tokens]:
    return _chain(tokens, "||", _and)


def _and(tokens: Tokens) -> tuple[Expression, Tokens]:
    return _chain(tokens, "&&", _relation)


def _chain(tokens: Tokens, operator: str, operand: Callable[[Tokens], tuple[Expression, Tokens]]
           ) -> tuple[Expression, Tokens]:
    """Operands joined by ``operator`` (|| or &&), from the left."""
    left, tokens = operand(tokens)
    while tokens[:1] == [("op", operator)]:
        right, tokens = operand(tokens[1:])
        left = ("or" if operator == "||" else "and", left, right)
    return left, tokens


def _relation(tokens: Tokens) -> tuple[Expression, Tokens]:
    """A member compared with a text, or a unary expression (CEL's ! binds tighter than ==)."""
    if len(tokens) >= 3 and tokens[0][0] == "member" and tokens[1] in (("op", "=="), ("op", "!=")):
        if tokens[2][0] != "text":
            raise _Unsupported
        return ("is", _path(tokens[0][1]), tokens[2][1], tokens[1][1] == "=="), tokens[3:]
    expression, tokens = _unary(tokens)
    if tokens[:1] in ([("op", "==")], [("op", "!=")]):
        raise _Unsupported
    return expression, tokens


def _unary(tokens: Tokens) -> tuple[Expression, Tokens]:
    if not tokens:
        raise _Unsupported
    kind, value = tokens[0]
    if (kind, value) == ("op", "!"):
        operand, rest = _unary(tokens[1:])
        return ("not", operand), rest
    if (kind, value) == ("op", "("):
        inner, rest = _or(tokens[1:])
        if rest[:1] != [("op", ")")]:
            raise _Unsupported
        return inner, rest[1:]
    if kind == "has":
        return ("has", _path(value)), tokens[1:]
    if kind == "member":
        return ("true", _path(value)), tokens[1:]
    raise _Unsupported


def _path(member: str) -> tuple[str, ...]:
    return tuple(member.split(".")[1:])


_ABSENT = object()


def _member(node: Any, path: tuple[str, ...]) -> Any:
    """The value at ``path`` under ``node``; _ABSENT where CEL would fail to select it."""
    for step in path:
        if not isinstance(node, dict) or step not in node:
            return _ABSENT
        node = node[step]
    return node


def _decided(expression: Expression, node: Any) -> bool | None:
    """True or False as CEL has it, or None where this cannot say (a field missing or of another
    type: CEL's error, or a value cel-python compares its own way).  && and || are CEL's: false
    decides &&, and true decides ||, whatever the other side is, an error included."""
    kind = expression[0]
    if kind == "or" or kind == "and":
        left, right = _decided(expression[1], node), _decided(expression[2], node)
        decisive = kind == "or"
        if left is decisive or right is decisive:
            return decisive
        return None if left is None or right is None else not decisive
    if kind == "not":
        operand = _decided(expression[1], node)
        return None if operand is None else not operand
    if kind == "has":
        holder = _member(node, expression[1][:-1])
        return expression[1][-1] in holder if isinstance(holder, dict) else None
    value = _member(node, expression[1])
    if kind == "is":
        return (value == expression[2]) == expression[3] if type(value) is str else None
    return value if type(value) is bool else None  # "true": a boolean field


def _direct(rule: str, node: Any) -> Outcome | None:
    """The outcome of a rule ``_parse`` reads, on a node whose fields hold what the rule expects,
    without cel-python; None otherwise."""
    expression = _parse(rule)
    return None if expression is None else _decided(expression, node)


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
            found_nodes = (_property_nodes(obj, self.schema, rule.path) if rule.properties
                           else _nodes(obj, self.schema, rule.path))
            for where, node, schema in found_nodes:
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
