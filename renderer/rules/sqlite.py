"""SQLite with Litestream: one writer, one replica, and what sqlite-rest needs to be safe."""
from __future__ import annotations

import re
from typing import Iterator

from renderer.errors import Problem
from renderer.positioned import PMap
from renderer.rules._walk import backup_method, clusters, located, needs_storage_size, not_for

ID = "sqlite"

FILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
NOT_FOR_SQLITE = {
    "pooler": "SQLite has no pooler",
    "databases": "a SQLite entry is one database file (sqlite.file)",
    "proxy": "xdatabase-proxy does not route SQLite",
}


def check(spec: PMap) -> Iterator[Problem]:
    for where, cluster in clusters(spec, "sqlite"):
        yield from needs_storage_size(where, cluster, "the SQLite volume")
        replicas, mark = located(cluster, "replicas")
        if isinstance(replicas, int) and replicas != 1:
            yield Problem(mark, f"{where}.replicas: SQLite has a single writer: one replica, not {replicas}")
        name, mark = located(cluster, "sqlite", "file")
        if isinstance(name, str) and not FILE.match(name):
            yield Problem(mark, f"{where}.sqlite.file: {name!r} must be a plain file name (letters, digits, '.', '_', '-')")
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
