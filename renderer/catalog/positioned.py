"""YAML loading that keeps the file, line and column of every node.

libyaml's composer (PyYAML's C loader) builds the node tree; this module turns it into plain
dicts and lists that remember where each key and item came from.  Scalars are resolved with the
YAML 1.2 core schema, as Kubernetes users expect of a catalog: ``on``, ``yes`` and ``no`` stay
strings.  ruamel.yaml's round-trip loader keeps positions too but costs ten times as much (2.1 s
against 0.23 s for a 1,000-cluster catalog), and loading runs in every pre-commit hook.
"""
from __future__ import annotations

import math
import re
from typing import Any, Iterator

import yaml

from renderer.catalog.nodes import LOADER, PList, PMap
from renderer.errors import Mark, Problem


_NULL = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}
_INT = re.compile(r"[-+]?[0-9]+\Z")
_OCT = re.compile(r"0o[0-7]+\Z")
_HEX = re.compile(r"0x[0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_INF = re.compile(r"[-+]?\.(inf|Inf|INF)\Z")
_NAN = re.compile(r"\.(nan|NaN|NAN)\Z")


_WORDS: dict[str, Any] = {**dict.fromkeys(_NULL - {"", "~"}), **dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False)}


def resolve_plain(text: str) -> Any:
    """The value of a plain (unquoted) scalar under the YAML 1.2 core schema."""
    if text[:1].isalpha():  # a word (most scalars, and every key): no number starts with a letter
        return _WORDS.get(text, text)
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


def _not_finite(mark: Mark, text: str) -> Problem:
    # JSON, and so every Kubernetes object, has no infinity or NaN; nor has a configuration file.
    return Problem(mark, f"{text} is no number a Kubernetes object or a configuration file can hold (JSON has no "
                         "infinity or NaN): write a finite number, or quote it for the text")


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


class _Frame:
    """A collection being read: its value, how many values it holds (aliases expanded), and the
    key read and waiting for its value (in a mapping)."""

    __slots__ = ("value", "anchor", "count", "key", "key_mark", "skip")

    def __init__(self, value: PMap | PList, anchor: str | None) -> None:
        self.value, self.anchor, self.count = value, anchor, 1
        self.key: str | None = None
        self.key_mark: Mark | None = None
        self.skip = False  # the key was refused: its value is read, and dropped


class _Builder:
    """Positioned values from libyaml's events, one document after another.  Events, not
    libyaml's node tree: the tree of a 10,000-cluster catalog takes 170 MB while it is built on
    (two position objects per node), the events are gone once read."""

    def __init__(self, filename: str, text: str) -> None:
        self.filename = filename
        self.text = text
        self.problems: list[Problem] = []
        self.repeats = 0
        # anchor -> (value, how many values it holds, its text when a scalar, where it starts)
        self.anchors: dict[str, tuple[Any, int, str | None, yaml.Mark]] = {}
        self.open: dict[str, Mark] = {}  # anchored collections being read: an alias to one is a loop

    def mark(self, at: Any) -> Mark:  # libyaml's event marks (typed as optional: they never are)
        return Mark(self.filename, at.line + 1, at.column + 1)

    def documents(self, expected: str) -> list[Any]:
        loader = LOADER(self.text)
        filename, source, next_event = self.filename, self.text, loader.get_event
        # Looked up once: the loop below runs once per event (52,000 at 1,000 clusters).
        scalar_event, resolve, new_mark = yaml.ScalarEvent, resolve_plain, tuple.__new__
        # Each text once, as first read, which later ones share (the specs of 1,000 clusters hold
        # 4,100 strings, not 84,000: marshalled with references, they are sent to the rendering
        # process in half the time): the keys and quoted values (the text as written), and the
        # plain words (with those YAML reads as null or a boolean).
        texts: dict[str, str] = {}
        words = dict(_WORDS)
        try:
            docs: list[Any] = []
            stack: list[_Frame] = []
            while True:
                event = next_event()
                kind = type(event)
                if (kind is scalar_event and stack and event.anchor is None and len(event.value) <= MAX_SCALAR
                        and len(stack) <= MAX_DEPTH):
                    # Most events (36,000 of 52,000 at 1,000 clusters): a key or a value in a
                    # collection, read here as _scalar and _add read it, without their calls.
                    at, frame = event.start_mark, stack[-1]
                    mark, parent, frame.count = new_mark(Mark, (filename, at.line + 1, at.column + 1)), frame.value, frame.count + 1
                    value = event.value
                    if frame.key_mark is None and type(parent) is PMap:  # a key: the text as written
                        value = texts.setdefault(value, value)
                        if value in parent:
                            self._key(frame, value, mark)
                        else:
                            frame.key_mark, frame.key, frame.skip = mark, value, False
                        continue
                    if event.style:
                        value = texts.setdefault(value, value)
                    else:
                        # resolve_plain, whose most common case (a word) needs no call
                        value = words.setdefault(value, value) if value[:1].isalpha() else resolve(value)
                        if type(value) is not str:
                            if source.startswith("!", at.index):  # an explicit tag wins
                                value = event.value
                            elif type(value) is float and not math.isfinite(value):
                                self.problems.append(_not_finite(mark, event.value))
                    if isinstance(parent, PMap):
                        if not frame.skip:
                            parent.keymarks[frame.key] = frame.key_mark  # type: ignore[index,assignment]
                            parent[frame.key] = value  # type: ignore[index]
                        frame.key = frame.key_mark = None
                    else:
                        parent.itemmarks.append(mark)
                        parent.append(value)
                    continue
                if kind is yaml.StreamEndEvent:
                    return docs
                if kind is yaml.DocumentStartEvent:
                    self.anchors = {}  # anchors are the document's own
                    continue
                if kind in (yaml.StreamStartEvent, yaml.DocumentEndEvent):
                    continue
                if kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                    frame = stack.pop()
                    if frame.anchor is not None:
                        self.open.pop(frame.anchor, None)
                        self.anchors[frame.anchor] = (frame.value, frame.count, None, event.start_mark)
                    self._add(stack, docs, frame.value, frame.count, None, frame.value.mark, expected)
                    continue
                if len(stack) > MAX_DEPTH:
                    raise TooLarge(Problem(self.mark(event.start_mark), f"values are nested more than {MAX_DEPTH} levels deep"))
                if kind is yaml.ScalarEvent:
                    value = self._scalar(event)
                    if event.anchor is not None:
                        self._anchor(event.anchor, event.start_mark)
                        self.anchors[event.anchor] = (value, 1, event.value, event.start_mark)
                    empty = not stack and not event.value and not event.style
                    self._add(stack, docs, value, 1, event.value, self.mark(event.start_mark), expected, empty)
                elif kind is yaml.AliasEvent:
                    value, count, text = self._alias(event)
                    self._add(stack, docs, value, count, text, self.mark(event.start_mark), expected)
                else:  # the start of a mapping or a sequence
                    if event.anchor is not None:
                        self._anchor(event.anchor, event.start_mark)
                        self.open[event.anchor] = self.mark(event.start_mark)
                    mark = self.mark(event.start_mark)
                    stack.append(_Frame(PMap(mark) if kind is yaml.MappingStartEvent else PList(mark), event.anchor))
        finally:
            loader.dispose()

    def _anchor(self, anchor: str, at: Any) -> None:
        if anchor in self.anchors or anchor in self.open:  # as libyaml's composer has it
            first = self.anchors[anchor][3] if anchor in self.anchors else None
            raise yaml.composer.ComposerError("found duplicate anchor; first occurrence", first, "second occurrence", at)

    def _alias(self, event: yaml.AliasEvent) -> tuple[Any, int, str | None]:
        if event.anchor in self.open:
            raise TooLarge(Problem(self.open[event.anchor], "an alias refers to a value that holds it: the value "
                                                            "would be infinite"))
        if event.anchor not in self.anchors:
            raise yaml.composer.ComposerError(None, None, "found undefined alias", event.start_mark)  # type: ignore[arg-type]
        value, count, text, _ = self.anchors[event.anchor]
        self.repeats += count
        if self.repeats > MAX_REPEATS:
            raise TooLarge(Problem(self.mark(event.start_mark), f"aliases repeat more than {MAX_REPEATS:,} values: "
                                                                "dbfleet refuses to expand them"))
        return _copy(value), count, text

    def _scalar(self, event: yaml.ScalarEvent) -> Any:
        if len(event.value) > MAX_SCALAR:
            raise TooLarge(Problem(self.mark(event.start_mark), f"a value of {len(event.value):,} characters: dbfleet "
                                                                f"reads values of at most {MAX_SCALAR:,}"))
        if event.style:  # quoted or block scalar
            return event.value
        value = resolve_plain(event.value)
        # An explicit ``!!str 5`` wins over resolution; libyaml's tags follow YAML 1.1, so
        # look at the source for the tag itself.
        if isinstance(value, str):
            return value
        if self.text.startswith("!", event.start_mark.index):  # type: ignore[union-attr]
            return event.value
        if isinstance(value, float) and not math.isfinite(value):
            self.problems.append(_not_finite(self.mark(event.start_mark), event.value))
        return value

    def _add(self, stack: list[_Frame], docs: list[Any], value: Any, count: int, text: str | None, mark: Mark,
             expected: str, empty: bool = False) -> None:
        """A value read: a document, a sequence's item, a mapping's key or a key's value.  ``text``:
        a scalar's text (a key is the text as written: ``5:`` is the key "5")."""
        if not stack:
            if empty:  # libyaml puts an empty document on the line after its '---': point at the '---'.
                self.problems.append(Problem(Mark(self.filename, max(mark.line - 1, 1), 1) if mark.col == 1 else mark,
                                             f"the document is empty: write {expected} in it, or delete it"))
            else:
                docs.append(value)
            return
        frame = stack[-1]
        frame.count += count
        parent = frame.value
        if isinstance(parent, PList):
            parent.itemmarks.append(mark)
            parent.append(value)
        elif frame.key_mark is None:  # a key
            self._key(frame, text, mark)
        else:
            if not frame.skip:
                parent.keymarks[frame.key] = frame.key_mark  # type: ignore[index]
                parent[frame.key] = value  # type: ignore[index]
            frame.key = frame.key_mark = None

    def _key(self, frame: _Frame, text: str | None, mark: Mark) -> None:
        """A mapping's key read (``text``: a scalar's, None for a collection): kept, or refused
        as no string or a duplicate (its value is then read and dropped)."""
        frame.key_mark, frame.skip = mark, True
        if text is None:
            self.problems.append(Problem(mark, "a mapping key must be a string"))
        elif text in frame.value:
            first = frame.value.keymarks[text]  # type: ignore[union-attr]
            self.problems.append(Problem(mark, f"duplicate key {text!r} (first defined at line {first.line})"))
        else:
            frame.key, frame.skip = text, False


def _copy(value: Any) -> Any:
    """A value read again through an alias: a copy of its own, positions and all."""
    if isinstance(value, PMap):
        copied = PMap(value.mark, {key: _copy(item) for key, item in value.items()})
        copied.keymarks = dict(value.keymarks)
        return copied
    if isinstance(value, PList):
        items = PList(value.mark)
        items.extend(_copy(item) for item in value)
        items.itemmarks = list(value.itemmarks)
        return items
    return value


def load_documents(text: str, filename: str, expected: str = "a YAML document") -> tuple[list[Any], list[Problem]]:
    """Every document of a YAML stream, positioned; syntax errors and empty documents (a ``---``
    with nothing under it) come back as problems that say what is ``expected``."""
    builder = _Builder(filename, text)
    try:
        docs = builder.documents(expected)
    # (a name for each exception's type: compiled, an ``exc`` of each clause would be one variable, of the first's type)
    except TooLarge as large:
        return [], builder.problems + [large.problem]
    except yaml.MarkedYAMLError as marked:
        mark = marked.problem_mark or marked.context_mark
        where = Mark(filename, mark.line + 1, mark.column + 1) if mark else Mark(filename, 1, 1)
        reason = marked.problem or marked.context or "invalid YAML"
        if marked.context and marked.problem:
            reason = f"{marked.context}, {marked.problem}"
        return [], [Problem(where, f"invalid YAML: {reason}")]
    except yaml.reader.ReaderError as unreadable:  # a character YAML does not allow (a NUL byte ...)
        line = text.count("\n", 0, unreadable.position) + 1
        col = unreadable.position - (text.rfind("\n", 0, unreadable.position) + 1) + 1
        code = unreadable.character if isinstance(unreadable.character, int) else ord(unreadable.character)
        return [], [Problem(Mark(filename, line, col), f"invalid YAML: the character U+{code:04X} is not allowed in YAML")]
    except yaml.YAMLError as exc:
        return [], [Problem(Mark(filename, 1, 1), f"invalid YAML: {exc}")]
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
