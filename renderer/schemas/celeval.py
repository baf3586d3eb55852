"""CEL rules evaluated with cel-python, with the Kubernetes CEL library functions the pinned CRDs
use: ``quantity``, ``isQuantity``, ``sign``, ``compareTo`` and ``isURL``.  Imported only when a
rule meets a node whose outcome is not known (cel.Outcomes): it costs 0.1 s to import."""
from __future__ import annotations

import re
import urllib.parse
from pathlib import Path
from typing import Any

import celpy
import celpy.celparser
from celpy import celtypes

from renderer.quantities import amount


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

_ENVIRONMENT = celpy.Environment()
_PROGRAMS: dict[str, Any] = {}
_MISSING = re.compile(r"no such member in mapping: \\*'([^'\\]+)")


def program(rule: str) -> Any:
    """The rule compiled (once); raises when it does not parse."""
    found = _PROGRAMS.get(rule)
    if found is None:
        found = _PROGRAMS[rule] = _ENVIRONMENT.program(_ENVIRONMENT.compile(rule), functions=FUNCTIONS)
    return found


def outcome(rule: str, node: Any) -> bool | str:
    """True when the rule holds on the node (``self``), False when it does not, or why it cannot
    be evaluated on it (the API server refuses such an object too)."""
    compiled = program(rule)
    try:
        result = compiled.evaluate({"self": celpy.json_to_cel(node)})
    except Exception as exc:  # noqa: BLE001 - cel-python raises what the expression meets
        result = exc
    if isinstance(result, (celtypes.BoolType, bool)):
        return bool(result)
    missing = _MISSING.findall(str(result))
    return f"no {', '.join(sorted(set(missing)))}" if missing else type(result).__name__
