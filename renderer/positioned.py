"""YAML loading that keeps the file, line and column of every node.

libyaml's composer (PyYAML's C loader) builds the node tree; this module turns it into plain
dicts and lists that remember where each key and item came from.  Scalars are resolved with the
YAML 1.2 core schema, as Kubernetes users expect of a catalog: ``on``, ``yes`` and ``no`` stay
strings.  ruamel.yaml's round-trip loader keeps positions too but costs ten times as much (2.1 s
against 0.23 s for a 1,000-cluster catalog), and loading runs in every pre-commit hook.
"""
from __future__ import annotations

import re
from typing import Any, Iterator

import yaml

from renderer.errors import Mark, Problem

try:  # libyaml's composer
    _COMPOSER: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _COMPOSER = yaml.SafeLoader

# The tag of a plain scalar without one: left for the reader to resolve, under its own schema.
PLAIN = "tag:dbfleet.dev,2026:plain"
_STR, _SEQ, _MAP = (f"tag:yaml.org,2002:{name}" for name in ("str", "seq", "map"))


class LOADER(_COMPOSER):
    """libyaml's composer, without PyYAML resolving every scalar in Python (0.5 us each, 300,000 of
    them in a render): a plain scalar is tagged PLAIN, and whoever reads it resolves it (dbfleet
    under YAML 1.2 core for the catalog, templating as YAML 1.1 readers do).  Quoted and block
    scalars are strings, as the resolver has them."""

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode:
            return PLAIN if implicit[0] else _STR
        return _SEQ if kind is yaml.SequenceNode else _MAP

    # Path resolvers (which the safe loader has none of) are not followed: no call per node.
    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass


class PMap(dict[str, Any]):
    """A mapping that knows where it and each of its keys stand."""

    __slots__ = ("mark", "keymarks")

    def __init__(self, mark: Mark, *args: Any) -> None:
        super().__init__(*args)
        self.mark = mark
        self.keymarks: dict[str, Mark] = {}


class PList(list[Any]):
    """A sequence that knows where it and each of its items stand."""

    __slots__ = ("mark", "itemmarks")

    def __init__(self, mark: Mark) -> None:
        super().__init__()
        self.mark = mark
        self.itemmarks: list[Mark] = []


_NULL = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}
_INT = re.compile(r"[-+]?[0-9]+\Z")
_OCT = re.compile(r"0o[0-7]+\Z")
_HEX = re.compile(r"0x[0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_INF = re.compile(r"[-+]?\.(inf|Inf|INF)\Z")
_NAN = re.compile(r"\.(nan|NaN|NAN)\Z")


def resolve_plain(text: str) -> Any:
    """The value of a plain (unquoted) scalar under the YAML 1.2 core schema."""
    if text in _NULL:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if _INT.match(text):
        try:
            return int(text)
        except ValueError:  # more digits than Python converts: no field takes such a number
            return text
    if _OCT.match(text):
        return int(text[2:], 8)
    if _HEX.match(text):
        return int(text[2:], 16)
    if _FLOAT.match(text):
        return float(text)
    if _INF.match(text):
        return float("-inf") if text.startswith("-") else float("inf")
    if _NAN.match(text):
        return float("nan")
    return text


# Bounds on what one file may expand to: aliases repeat a node without copying it in the text, so
# a few lines can stand for billions of nodes (the "billion laughs").
MAX_REPEATS = 100_000  # values read again through aliases
MAX_DEPTH = 100
MAX_SCALAR = 1_000_000  # characters of one value


class TooLarge(Exception):
    """The document cannot be read within the bounds; carries the problem to report."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


class _Builder:
    def __init__(self, filename: str, text: str) -> None:
        self.filename = filename
        self.text = text
        self.problems: list[Problem] = []
        self.built: set[int] = set()  # the nodes read once: reading one again is through an alias
        self.repeats = 0
        self.open: set[int] = set()  # the collections being built: an alias to one is a loop

    def mark(self, node: yaml.Node) -> Mark:
        return Mark(self.filename, node.start_mark.line + 1, node.start_mark.column + 1)

    def build(self, node: yaml.Node, depth: int = 0) -> Any:
        if id(node) in self.built:
            self.repeats += 1
            if self.repeats > MAX_REPEATS:
                raise TooLarge(Problem(self.mark(node), f"aliases repeat more than {MAX_REPEATS:,} values: "
                                                        "dbfleet refuses to expand them"))
        self.built.add(id(node))
        if depth > MAX_DEPTH:
            raise TooLarge(Problem(self.mark(node), f"values are nested more than {MAX_DEPTH} levels deep"))
        if isinstance(node, yaml.ScalarNode):
            if len(node.value) > MAX_SCALAR:
                raise TooLarge(Problem(self.mark(node), f"a value of {len(node.value):,} characters: dbfleet reads "
                                                        f"values of at most {MAX_SCALAR:,}"))
            if node.style:  # quoted or block scalar
                return node.value
            value = resolve_plain(node.value)
            # An explicit ``!!str 5`` wins over resolution; libyaml's tags follow YAML 1.1, so
            # look at the source for the tag itself.
            if isinstance(value, str) or not self.text.startswith("!", node.start_mark.index):
                return value
            return node.value
        if id(node) in self.open:
            raise TooLarge(Problem(self.mark(node), "an alias refers to a value that holds it: the value would be infinite"))
        self.open.add(id(node))
        try:
            return self._collection(node, depth)
        finally:
            self.open.discard(id(node))

    def _collection(self, node: yaml.Node, depth: int) -> Any:
        if isinstance(node, yaml.SequenceNode):
            seq = PList(self.mark(node))
            for item in node.value:
                seq.itemmarks.append(self.mark(item))
                seq.append(self.build(item, depth + 1))
            return seq
        mapping = PMap(self.mark(node))
        for key_node, value_node in node.value:
            key_mark = self.mark(key_node)
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(Problem(key_mark, "a mapping key must be a string"))
                continue
            key = key_node.value
            if key in mapping:
                first = mapping.keymarks[key]
                self.problems.append(
                    Problem(key_mark, f"duplicate key {key!r} (first defined at line {first.line})")
                )
                continue
            mapping.keymarks[key] = key_mark
            mapping[key] = self.build(value_node, depth + 1)
        return mapping


def load_documents(text: str, filename: str, expected: str = "a YAML document") -> tuple[list[Any], list[Problem]]:
    """Every document of a YAML stream, positioned; syntax errors and empty documents (a ``---``
    with nothing under it) come back as problems that say what is ``expected``."""
    builder = _Builder(filename, text)
    try:
        nodes = list(yaml.compose_all(text, Loader=LOADER))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Mark(filename, mark.line + 1, mark.column + 1) if mark else Mark(filename, 1, 1)
        reason = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem:
            reason = f"{exc.context}, {exc.problem}"
        return [], [Problem(where, f"invalid YAML: {reason}")]
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (a NUL byte ...)
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return [], [Problem(Mark(filename, line, col), f"invalid YAML: the character U+{code:04X} is not allowed in YAML")]
    except yaml.YAMLError as exc:
        return [], [Problem(Mark(filename, 1, 1), f"invalid YAML: {exc}")]
    except RecursionError:  # nesting too deep for the parser itself
        return [], [Problem(Mark(filename, 1, 1), f"values are nested more than {MAX_DEPTH} levels deep")]
    docs = []
    for node in nodes:
        if isinstance(node, yaml.ScalarNode) and not node.value and not node.style:
            # libyaml puts an empty document on the line after its '---': point at the '---'.
            start = builder.mark(node)
            builder.problems.append(Problem(Mark(filename, max(start.line - 1, 1), 1) if start.col == 1 else start,
                                            f"the document is empty: write {expected} in it, or delete it"))
        elif node is not None:
            try:
                docs.append(builder.build(node))
            except TooLarge as exc:
                return [], builder.problems + [exc.problem]
    return docs, builder.problems


def locate(root: Any, path: Iterator[Any] | list[Any] | tuple[Any, ...]) -> Mark:
    """The mark of the deepest node along ``path`` that can still be found."""
    node = root
    found: Mark = getattr(root, "mark", Mark("<catalog>", 0, 0))
    for step in path:
        if isinstance(node, PMap) and step in node.keymarks:
            found = node.keymarks[step]
            node = node[step]
        elif isinstance(node, PList) and isinstance(step, int) and 0 <= step < len(node):
            found = node.itemmarks[step]
            node = node[step]
        else:
            break
    return found


def format_path(path: Iterator[Any] | list[Any] | tuple[Any, ...]) -> str:
    """``clusters[0].storage.size`` style, as users read catalog paths."""
    out = ""
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
        else:
            out += f".{step}" if out else str(step)
    return out
