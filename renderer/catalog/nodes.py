"""The classes of YAML loading that derive from built-in and C types (dict, list, libyaml's
loader): apart from the code that uses them, which setup.py compiles with mypyc (mypyc compiles
no such class; these stay Python classes, which compiled code uses as any other)."""
from __future__ import annotations

from typing import Any

import yaml

from renderer.errors import Mark

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
