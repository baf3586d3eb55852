"""CEL rules evaluated with cel-python, with the Kubernetes CEL library functions the pinned CRDs
use: ``quantity``, ``isQuantity``, ``sign``, ``compareTo`` and ``isURL``.  Imported only when a
rule meets a node whose outcome is not known (cel.Outcomes): it costs 0.1 s to import."""
from __future__ import annotations

import re
import sys
import urllib.parse
from pathlib import Path
from typing import Any

import celpy
import celpy.celparser
from celpy import celtypes

from renderer.kube.quantities import amount


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


# The parser built when dbfleet was packaged (ship_parser; tests/test_validate.py says it is
# current for the Lark dbfleet pins): a new user's first render, and every CI runner's, does not
# build it.  It is Lark's cache file, keyed for no path; with another Lark or Python, Lark builds
# the parser, as without it.
SHIPPED_PARSER = Path(__file__).parent / "cel-parser.lark"


def _options(cache: Path | str) -> dict[str, Any]:
    """celpy's own options for its parser (celpy/celparser.py CELParser.__init__), and the cache."""
    import lark
    from celpy.celparser import CELParser

    return {"parser": "lalr", "start": "expr", "debug": True, "g_regex_flags": re.M,
            "lexer_callbacks": {"IDENT": CELParser.ambiguous_literals}, "propagate_positions": True,
            "maybe_placeholders": False, "priority": "invert", "tree_class": lark.Tree, "cache": str(cache)}


def _grammar() -> str:
    return (Path(celpy.celparser.__file__).parent / "cel.lark").read_text()


def _cache_key(cache: Path | str) -> str:
    """The first line of Lark's cache file of celpy's parser kept at ``cache``: Lark 1.3 keys it by
    the grammar, the options (the cache's path among them), and Lark's and Python's versions
    (lark/lark.py Lark.__init__)."""
    import lark
    from lark.load_grammar import sha256_digest

    unhashable = ("transformer", "postlex", "lexer_callbacks", "edit_terminals", "_plugins")
    options = "".join(key + str(value) for key, value in _options(cache).items() if key not in unhashable)
    return sha256_digest(_grammar() + options + lark.__version__ + str(sys.version_info[:2]))


def build_parser(cache: Path) -> Any:
    """celpy's parser, loaded from Lark's ``cache`` file when it holds this one, else built and
    kept there."""
    import lark

    return lark.Lark(_grammar(), **_options(cache))


def ship_parser() -> None:
    """Write SHIPPED_PARSER (for a Lark upgrade): the parser built, keyed for no path."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        built = Path(folder) / "cel-parser.lark"
        build_parser(built)
        body = built.read_bytes().split(b"\n", 1)[1]
    SHIPPED_PARSER.write_bytes(_cache_key("").encode() + b"\n" + body)


def _prebuilt_parser() -> None:
    """celpy builds its LALR parser from the CEL grammar on first use: 0.2 to 0.3 s of every run
    that checks a CEL rule.  dbfleet's cache holds a built one, the one dbfleet ships to begin
    with.  Without one, celpy builds its own."""
    from celpy.celparser import CELParser

    from renderer.writing.cache import cache_root, store_atomically

    if CELParser.CEL_PARSER is not None:
        return
    path = cache_root() / "cel-parser.lark"
    try:
        if path.is_symlink():
            return
        if not path.exists():
            key, body = SHIPPED_PARSER.read_bytes().split(b"\n", 1)
            if key.decode() == _cache_key(""):  # built by this Lark, for this Python: keyed for the cache's path
                store_atomically(path, _cache_key(path).encode() + b"\n" + body)
        path.parent.mkdir(parents=True, exist_ok=True)
        CELParser.CEL_PARSER = build_parser(path)
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
