"""Entries without any backup settings: rendered without backups, and said so; backup settings
that only some engines have."""
from __future__ import annotations

from typing import Iterator

from renderer.catalog.nodes import PMap
from renderer.errors import Mark, Problem
from renderer.rules._walk import backup_method, drill_check, entries, located, store, store_kind

ID = "backups"

NO_BACKUPS = {"kafka"}  # keeps its data by replication; a backup is refused there


def check(spec: PMap) -> Iterator[Problem]:
    yield from _identities(spec)
    for section in ("clusters", "databases"):
        for where, entry in entries(spec, section):
            if "backup" not in entry and entry.get("engine") not in NO_BACKUPS:
                yield Problem(
                    entry.mark,
                    f"{where} ({entry['name']}) has no backup: its data is not backed up; give it "
                    "backup: {store: <a backupStores name>} (or a fleet default, defaults.backup), or "
                    "backup: {method: none} to say so",
                    "warning",
                )
            yield from _engine_settings(spec, section, where, entry)


def _identities(spec: PMap) -> Iterator[Problem]:
    """A store authenticates one way; a cluster's pods run as one identity."""
    identities: dict[str, object] = {}
    for where, entry in entries(spec, "backupStores"):
        kind = store_kind(spec, entry.get("name"))
        settings = entry.get(kind) if kind else None
        if not isinstance(settings, PMap):
            continue
        identity, mark = located(settings, "identity")
        if identity is not None:
            identities[entry["name"]] = identity
            if settings.get("credentialsSecret") is not None:
                yield Problem(mark, f"{where}.{kind}: give credentialsSecret or identity, not both: with an identity, "
                                    "no Secret holds keys")
    for where, cluster in entries(spec, "clusters"):
        used: dict[str, tuple[object, Mark, tuple[str, str]]] = {}
        for path in (("backup", "store"), ("restore", "fromStore")):
            name, mark = located(cluster, *path)
            if name in identities and (path[0] != "backup" or backup_method(cluster, "native")[0] != "none"):
                used.setdefault(repr(identities[name]), (name, mark, path))
        if len(used) > 1:
            (first, _, _), (second, mark, path) = list(used.values())[:2]
            yield Problem(mark, f"{where}.{'.'.join(path)}: the stores {first!r} and {second!r} have different cloud "
                                "identities, and the cluster's pods run as one: give them one identity, or copy the "
                                "backups into one store")


def _engine_settings(spec: PMap, section: str, where: str, entry: PMap) -> Iterator[Problem]:
    engine = entry.get("engine") if section == "clusters" else "database"
    server_name, mark = located(entry, "backup", "serverName")
    if server_name is not None and engine != "postgresql":
        yield Problem(mark, f"{where}.backup.serverName: only PostgreSQL clusters name their archive folder "
                            "(barman-cloud's serverName); remove it")
    if section == "clusters":
        yield from _drill(spec, where, entry, engine)
    on_demand, mark = located(entry, "backup", "onDemand")
    if on_demand is None:
        return
    if engine == "sqlite":
        yield Problem(mark, f"{where}.backup.onDemand: Litestream replicates every change as it happens; there is no "
                            "backup to ask for")
    elif backup_method(entry, "native" if section == "clusters" else "dump")[0] == "none" or (
            section == "databases" and not located(entry, "backup", "store")[0]):
        yield Problem(mark, f"{where}.backup.onDemand: the {section[:-1]} has no backups to take: give it backup.store")
    elif section == "clusters" and backup_method(entry, "native")[0] != "native":
        yield Problem(mark, f"{where}.backup.onDemand: on-demand backups of a cluster are the operator's (method native)")


DRILLED = ("postgresql", "mysql", "mongodb", "sqlite")


def _drill(spec: PMap, where: str, cluster: PMap, engine: object) -> Iterator[Problem]:
    """A drill restores the cluster's own native backups, and checks one of its databases."""
    drill, mark = located(cluster, "backup", "drill")
    if not isinstance(drill, PMap):
        return
    if engine not in DRILLED:
        yield Problem(mark, f"{where}.backup.drill: restore drills of native backups are rendered for PostgreSQL, "
                            "MySQL, MongoDB and SQLite clusters")
        return
    yield from drill_check(f"{where}.backup.drill", drill, mark, engine)
    name, store_mark = located(cluster, "backup", "store")
    if backup_method(cluster, "native")[0] != "native" or name is None:
        yield Problem(mark, f"{where}.backup.drill: a restore drill restores the latest native backup: the cluster "
                            "needs backup.method native and backup.store")
    elif engine == "mysql":
        yield from _pxc_drill(spec, where, cluster, name, store_mark)
    elif engine == "mongodb":
        yield from _psmdb_drill(spec, where, cluster, name, store_mark)
    database, database_mark = located(drill, "database")
    if engine == "sqlite":
        if database is not None:
            yield Problem(database_mark, f"{where}.backup.drill.database: a SQLite entry is one database: remove it")
        return
    databases = [db.get("name") for db in cluster.get("databases") or [] if isinstance(db, PMap)]
    if database is None and not databases:
        yield Problem(mark, f"{where}.backup.drill: the check runs in one of the cluster's databases: the cluster "
                            "has none")
    elif database is not None and database not in databases:
        yield Problem(database_mark, f"{where}.backup.drill.database: {database!r} is not one of the cluster's "
                                     f"databases ({', '.join(map(str, databases)) or 'none'})")


def _psmdb_drill(spec: PMap, where: str, cluster: PMap, name: object, mark: Mark) -> Iterator[Problem]:
    """The drill restores into one replica set with PBM, which reads an S3 store's keys from the
    environment (those of GCS and Azure from its configuration only: they would be written to a
    file)."""
    if store_kind(spec, name) != "s3":
        yield Problem(mark, f"{where}.backup.store: a MongoDB restore drill reads an S3 store (PBM takes its keys, or "
                            "the pod's identity, from the environment)")
    sharded, sharded_mark = located(cluster, "sharding", "enabled")
    if sharded is True:
        yield Problem(sharded_mark, f"{where}.sharding.enabled: a MongoDB restore drill restores into one replica set; "
                                    "PBM restores a sharded cluster's backup only into a sharded cluster: drill its "
                                    "databases' dumps instead (databases[].backup.drill)")


def _pxc_drill(spec: PMap, where: str, cluster: PMap, name: object, mark: Mark) -> Iterator[Problem]:
    """The drill finds the newest backup by listing the store with the aws CLI, and reads it with
    xbcloud's S3 keys: an S3 store with a credentialsSecret; and XtraBackup 8 (2.4's backups of
    5.7 need another preparation)."""
    entry = store(spec, name)
    s3 = entry.get("s3") if entry else None
    if not isinstance(s3, PMap) or s3.get("credentialsSecret") is None:
        yield Problem(mark, f"{where}.backup.store: a MySQL restore drill lists the store's backups with the aws CLI and "
                            "reads them with xbcloud's keys: it needs an S3 store with a credentialsSecret")
    version, version_mark = located(cluster, "version")
    if str(version).startswith("5."):
        yield Problem(version_mark, f"{where}.version: restore drills of MySQL 5.7 are not rendered (XtraBackup 2.4 "
                                    "prepares its backups otherwise); upgrade the cluster, or drill its databases' dumps")
