"""The CEL rules of a CRD schema (``x-kubernetes-validations``), evaluated as the API server would
before it stores an object: each rule on every node of the object its schema node describes.

Rules that compare with the stored object (``oldSelf``, transition rules) cannot be checked before
a sync and are skipped.  The Kubernetes CEL library functions the pinned CRDs use are provided:
``quantity``, ``isQuantity``, ``sign``, ``compareTo`` and ``isURL``.
"""
from __future__ import annotations

import copy
import json
import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import celpy
import celpy.celparser
from celpy import celtypes

from renderer.quantities import amount

Step = tuple[str, str]  # ("property", name) | ("items", "") | ("values", "")


def _quantity(text: celtypes.Value) -> celtypes.Value:
    """A quantity as the rules use one: a value that compares and has a sign."""
    value = amount(str(text))
    if value is None:
        raise ValueError(f"{text!s} is not a quantity")
    return celtypes.DoubleType(float(value))


FUNCTIONS: dict[str, Any] = {
    "isQuantity": lambda text: celtypes.BoolType(amount(str(text)) is not None),
    "quantity": _quantity,
    "sign": lambda value: celtypes.IntType((value > 0) - (value < 0)),
    "compareTo": lambda left, right: celtypes.IntType((left > right) - (left < right)),
    "isURL": lambda text: celtypes.BoolType(bool(urllib.parse.urlsplit(str(text)).scheme and urllib.parse.urlsplit(str(text)).netloc)),
}


@dataclass
class Rule:
    path: tuple[Step, ...]
    rule: str
    message: str
    program: Any = None
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
        yield from _collect(sub, (*path, ("property", name)))
    if isinstance(schema.get("items"), dict):
        yield from _collect(schema["items"], (*path, ("items", "")))
    if isinstance(schema.get("additionalProperties"), dict):
        yield from _collect(schema["additionalProperties"], (*path, ("values", "")))


def _nodes(value: Any, path: tuple[Step, ...], shown: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """The nodes of an object at a schema path, with their paths in the object."""
    if not path:
        yield shown, value
        return
    (kind, name), rest = path[0], path[1:]
    if kind == "property" and isinstance(value, dict) and name in value:
        yield from _nodes(value[name], rest, (*shown, name))
    elif kind == "items" and isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nodes(item, rest, (*shown, index))
    elif kind == "values" and isinstance(value, dict):
        for key, item in value.items():
            yield from _nodes(item, rest, (*shown, key))


def _prebuilt_parser() -> None:
    """celpy builds its LALR parser from the CEL grammar on first use: 0.3 s of every run that
    checks a CEL rule.  Lark keeps a built parser in a cache file (keyed by the grammar, the
    options and Lark's version): dbfleet's cache holds it.  Without one, celpy builds its own."""
    import lark
    from celpy.celparser import CELParser

    from renderer.cache import cache_root

    if CELParser.CEL_PARSER is not None:
        return
    path = cache_root() / "cel-parser.lark"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            return
        # celpy's own options (celpy/celparser.py CELParser.__init__), and the cache.
        CELParser.CEL_PARSER = lark.Lark(
            (Path(celpy.celparser.__file__).parent / "cel.lark").read_text(), parser="lalr", start="expr", debug=True,
            g_regex_flags=re.M, lexer_callbacks={"IDENT": CELParser.ambiguous_literals}, propagate_positions=True,
            maybe_placeholders=False, priority="invert", tree_class=lark.Tree, cache=str(path))
    except Exception:  # noqa: BLE001 - a cache file another run is writing, of another Lark ...: celpy builds its own
        CELParser.CEL_PARSER = None


_prebuilt_parser()


class CelRules:
    """The rules of one schema, each compiled the first time an object has its node."""

    _environment = celpy.Environment()

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.rules = list(_collect(schema))
        self._results: dict[tuple[int, str], Any] = {}

    def violations(self, obj: Any) -> Iterator[tuple[tuple[Any, ...], str]]:
        """(path in the object, message) for each rule a node breaks, or cannot be evaluated on;
        on the object as the API server sees it, with the schema's defaults filled in."""
        if self.rules:
            obj = defaulted(self.schema, obj)
        for index, rule in enumerate(self.rules):
            for where, node in _nodes(obj, rule.path):
                if rule.fields is not None and isinstance(node, dict):
                    node = {name: node[name] for name in rule.fields if name in node}
                key = (index, json.dumps(node, sort_keys=True, default=str))
                if key not in self._results:
                    self._results[key] = self._evaluate(rule, node)
                result = self._results[key]
                if result is not True and not (isinstance(result, celtypes.BoolType) and bool(result)):
                    if isinstance(result, (celtypes.BoolType, bool)):
                        yield where, rule.message
                    else:  # the API server refuses an object its rule cannot be evaluated on, too
                        missing = _MISSING.findall(str(result))
                        why = f"no {', '.join(sorted(set(missing)))}" if missing else type(result).__name__
                        yield where, f"{rule.message} (the rule {rule.rule!r} cannot be evaluated: {why})"


    def _evaluate(self, rule: Rule, node: Any) -> Any:
        if rule.program is None:
            rule.program = self._environment.program(self._environment.compile(rule.rule), functions=FUNCTIONS)
        try:
            return rule.program.evaluate({"self": celpy.json_to_cel(node)})
        except Exception as exc:  # noqa: BLE001 - cel-python raises what the expression meets
            return exc


_MISSING = re.compile(r"no such member in mapping: \\*'([^'\\]+)")


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
