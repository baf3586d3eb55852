"""Helpers the rules share: iterate entries and point at their keys."""
from __future__ import annotations

from typing import Any, Iterator

from renderer.errors import Mark
from renderer.positioned import PList, PMap


def entries(spec: PMap, section: str) -> Iterator[tuple[str, PMap]]:
    """(``clusters[0]``, entry) for each entry of a named list."""
    items = spec.get(section)
    if isinstance(items, PList):
        for i, item in enumerate(items):
            yield f"{section}[{i}]", item


def located(node: PMap, *path: str) -> tuple[Any, Mark]:
    """The value at ``path`` and where it was written (its key, or the nearest parent)."""
    mark = node.mark
    for step in path:
        if not isinstance(node, PMap) or step not in node:
            return None, mark
        mark = node.keymarks.get(step, mark)
        node = node[step]
    return node, mark
