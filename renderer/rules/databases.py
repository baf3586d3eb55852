"""Logical databases on servers: where they can live, and what provisioning them needs."""
from __future__ import annotations

from typing import Iterator

from renderer.catalog.nodes import PMap
from renderer.errors import Problem
from renderer.rules._walk import backup_method, drill_check, entries, located, mysql_user

ID = "databases"

ON_CLUSTERS = {
    "postgresql": "declare the database in the cluster's own databases list (CloudNativePG manages it)",
    "kafka": "a Kafka cluster has topics, not databases",
    "sqlite": "a SQLite entry is one database file",
}


def check(spec: PMap) -> Iterator[Problem]:
    servers = {s["name"]: s for _, s in entries(spec, "servers")}
    clusters = {c["name"]: c for _, c in entries(spec, "clusters")}
    provider, _ = located(spec, "secrets", "provider")
    for where, server in entries(spec, "servers"):
        mode, mark = located(server, "tls", "mode")
        ca, _ = located(server, "tls", "caSecret")
        if mode in ("verify-ca", "verify-full") and not ca:
            yield Problem(mark, f"{where}.tls.mode: {mode} checks the server's certificate: name the caSecret that holds ca.crt")
    for where, database in entries(spec, "databases"):
        on, on_mark = located(database, "on")
        engine = servers[on]["engine"] if on in servers else None
        if on in clusters:
            engine = clusters[on].get("engine")
            if engine in ON_CLUSTERS:
                yield Problem(on_mark, f"{where}.on: {on!r} is a {engine} cluster: {ON_CLUSTERS[engine]}")
        if engine == "mysql":
            yield from mysql_user(where, database)
        extensions, mark = located(database, "extensions")
        if extensions and engine != "postgresql":
            yield Problem(mark, f"{where}.extensions: extensions are a PostgreSQL feature")
        method, mark = backup_method(database, "dump")
        store, store_mark = located(database, "backup", "store")
        if method == "native":
            yield Problem(mark, f"{where}.backup.method: no operator runs this server: its backups are dumps (method: dump)")
        elif method == "dump" and store is None:
            yield Problem(store_mark, f"{where}.backup.store: a dump needs a backup store (or set backup.method: none)")
        drill, drill_mark = located(database, "backup", "drill")
        if drill is not None and (method != "dump" or store is None):
            yield Problem(drill_mark, f"{where}.backup.drill: a restore drill loads the latest dump: the database needs "
                                      "dumps (backup.method: dump, backup.store)")
        elif isinstance(drill, PMap):
            yield from drill_check(f"{where}.backup.drill", drill, drill_mark, engine)
        secret, mark = located(database, "credentialsSecret")
        if provider != "external-secrets" and not secret:
            yield Problem(database.mark, f"{where}.credentialsSecret: name the Secret that holds the owner's password "
                                         "(or let secrets.provider: external-secrets make it)")
