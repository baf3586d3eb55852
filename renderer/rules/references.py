"""Every reference resolves: backup stores, servers and clusters, databases."""
from __future__ import annotations

from typing import Iterable, Iterator

from renderer.catalog.nodes import PMap
from renderer.errors import Problem
from renderer.rules._walk import entries, located

ID = "references"


def _names(spec: PMap, *sections: str) -> list[str]:
    return [entry["name"] for section in sections for _, entry in entries(spec, section)]


def missing(where: str, what: str, value: str, known: Iterable[str]) -> str:
    import difflib  # (for a problem only)

    known = sorted(known)
    close = difflib.get_close_matches(value, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else (f"; known: {', '.join(known)}" if known else "; there are none")
    return f"{where}: {what} {value!r} is not defined{hint}"


def check(spec: PMap) -> Iterator[Problem]:
    stores = _names(spec, "backupStores")
    targets = _names(spec, "servers", "clusters")
    databases = _names(spec, "databases")
    for section in ("clusters", "databases"):
        for where, entry in entries(spec, section):
            for path in (("backup", "store"), ("restore", "fromStore")):
                value, mark = located(entry, *path)
                if isinstance(value, str) and value not in stores:
                    yield Problem(mark, missing(f"{where}.{'.'.join(path)}", "backup store", value, stores))
    for where, entry in entries(spec, "databases"):
        value, mark = located(entry, "on")
        if isinstance(value, str) and value not in targets:
            yield Problem(mark, missing(f"{where}.on", "server or cluster", value, targets))
    for where, entry in entries(spec, "vclusters"):
        value, mark = located(entry, "database")
        if isinstance(value, str) and value not in databases:
            yield Problem(mark, missing(f"{where}.database", "database", value, databases))
