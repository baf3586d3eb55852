"""SQLite with Litestream: one writer, one replica, and what sqlite-rest needs to be safe."""
from __future__ import annotations

import re
from typing import Iterator

from renderer.catalog.nodes import PMap
from renderer.errors import Problem
from renderer.rules._walk import backup_method, clusters, located, needs_storage_size, not_for

ID = "sqlite"

NOT_FOR_SQLITE = {
    "pooler": "SQLite has no pooler",
    "databases": "a SQLite entry is one database file (sqlite.file)",
    "proxy": "xdatabase-proxy does not route SQLite",
}


TRANSACTION = re.compile(r"(?i)(BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE)\b")
COMMENTS = re.compile(r"\s*(--[^\n]*\n?|/\*.*?\*/)?\s*", re.S)


def statements(sql: str) -> Iterator[str]:
    """The statements of a script, as SQLite splits it (a trigger's body is part of its CREATE)."""
    import sqlite3  # (for a catalog with SQLite's init SQL only: 2.5 ms)

    start, at = 0, sql.find(";")
    while at != -1:
        if sqlite3.complete_statement(sql[start:at + 1]):
            yield sql[start:at + 1]
            start = at + 1
        at = sql.find(";", at + 1)
    if sql[start:].strip():
        yield sql[start:]


def init_sql_problems(sql: str) -> Iterator[str]:
    """Only SQL, in the one transaction that records it: no dot-command, no transaction control."""
    for statement in statements(sql):
        head = statement
        while (found := COMMENTS.match(head)) and found.end() > 0 and found.group(1):
            head = head[found.end():]
        head = head.lstrip()
        if head.startswith("."):
            yield f"{head.splitlines()[0]!r} is a sqlite3 dot-command: initSQL is SQL only"
        elif TRANSACTION.match(head):
            yield (f"{head.split()[0]!r} controls the transaction: initSQL runs in one transaction with the record "
                   "of it, so it must not begin, commit or roll back one")


def check(spec: PMap) -> Iterator[Problem]:
    for where, cluster in clusters(spec, "sqlite"):
        yield from needs_storage_size(where, cluster, "the SQLite volume")
        replicas, mark = located(cluster, "replicas")
        if isinstance(replicas, int) and replicas != 1:
            yield Problem(mark, f"{where}.replicas: SQLite has a single writer: one replica, not {replicas}")
        init, mark = located(cluster, "sqlite", "initSQL")
        if isinstance(init, str):
            for reason in init_sql_problems(init):
                yield Problem(mark, f"{where}.sqlite.initSQL: {reason}")
        yield from not_for(where, cluster, NOT_FOR_SQLITE)
        method, mark = backup_method(cluster, "native")
        if method == "dump":
            yield Problem(mark, f"{where}.backup.method: Litestream replicates continuously; use native (or none)")
        store, store_mark = located(cluster, "backup", "store")
        if method == "native" and store is None:
            yield Problem(store_mark, f"{where}.backup.store: Litestream needs a backup store to replicate to (or set backup.method: none)")
        from_store, mark = located(cluster, "restore", "fromStore")
        if from_store is not None and from_store != store:
            yield Problem(mark, f"{where}.restore.fromStore: Litestream has one replica per database and restores from it: "
                                f"use the backup store {store!r}")
        for key in ("sourceCluster", "environment", "backup", "pointInTime"):
            value, mark = located(cluster, "restore", key)
            if value is not None:
                yield Problem(mark, f"{where}.restore.{key}: the restore init container restores the latest state of the replica")
        rest, mark = located(cluster, "rest")
        if isinstance(rest, PMap) and rest.get("enabled"):
            if not rest.get("authSecret"):
                yield Problem(mark, f"{where}.rest.authSecret: sqlite-rest must not serve without authentication: name the Secret with its token")
            if not rest.get("allowedTables"):
                yield Problem(mark, f"{where}.rest.allowedTables: list the tables sqlite-rest may serve")
        ingress, mark = located(cluster, "ingress")
        if ingress is not None and not (isinstance(rest, PMap) and rest.get("enabled")):
            yield Problem(mark, f"{where}.ingress: an Ingress exposes sqlite-rest: enable rest")
