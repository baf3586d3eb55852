"""Catalog rules: each a module with an ``ID`` and a ``check(spec)`` generator of problems.

They run on the resolved specification of every environment, after the JSON Schema passed, so
they can rely on types and required keys.  They are imported when they first run: a large render
runs them in a forked process, and its own process reads only ``_walk`` and ``secrets``.
"""
from __future__ import annotations

from types import ModuleType
from typing import Iterator

from renderer.catalog.nodes import PMap
from renderer.errors import Problem


def rules() -> tuple[ModuleType, ...]:
    """Every rule, in the order they run."""
    from renderer.rules import (backups, databases, formats, kafka, mongodb, mysql, names, placement, postgresql, proxy,
                                references, secrets, sqlite, vclusters)

    return (names, references, placement, formats, secrets, backups, proxy, postgresql, mysql, mongodb, kafka, sqlite,
            databases, vclusters)


def check(spec: PMap) -> Iterator[Problem]:
    for rule in rules():
        for problem in rule.check(spec):
            yield problem._replace(message=f"{problem.message} [{rule.ID}]")
