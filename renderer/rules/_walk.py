"""Helpers the rules share: iterate entries and point at their keys."""
from __future__ import annotations

import re
from typing import Any, Iterator

from renderer.catalog.nodes import PList, PMap
from renderer.errors import Mark, Problem


def entries(spec: PMap, section: str) -> Iterator[tuple[str, PMap]]:
    """(``clusters[0]``, entry) for each entry of a named list."""
    items = spec.get(section)
    if isinstance(items, PList):
        for i, item in enumerate(items):
            yield f"{section}[{i}]", item


def located(node: PMap, *path: str) -> tuple[Any, Mark]:
    """The value at ``path`` and where it was written (its key, or the nearest parent)."""
    mark = node.mark
    value: Any = node
    for step in path:
        if not isinstance(value, PMap) or step not in value:
            return None, mark
        mark = value.keymarks.get(step, mark)
        value = value[step]
    return value, mark


def clusters(spec: PMap, engine: str) -> Iterator[tuple[str, PMap]]:
    for where, cluster in entries(spec, "clusters"):
        if cluster.get("engine") == engine:
            yield where, cluster


def store(spec: PMap, name: object) -> PMap | None:
    for _, entry in entries(spec, "backupStores"):
        if entry["name"] == name:
            return entry
    return None


def store_kind(spec: PMap, name: object) -> str | None:
    """s3, gcs, azure or volume: the kind of a named backup store."""
    entry = store(spec, name)
    return next((k for k in ("s3", "gcs", "azure", "volume") if k in entry), None) if entry else None


def backup_method(entry: PMap, default: str) -> tuple[str, Mark]:
    """The method the engines will use: the one given, else the engine's ``default`` when backup
    settings are given, else none (no backup settings at all; the backups rule warns)."""
    if not isinstance(entry.get("backup"), PMap):
        return "none", entry.mark
    method, mark = located(entry, "backup", "method")
    return (method if isinstance(method, str) else default), mark


def needs_storage_size(where: str, cluster: PMap, operator: str) -> Iterator[Problem]:
    size, mark = located(cluster, "storage", "size")
    if size is None:
        yield Problem(mark, f"{where}.storage.size: {operator} needs a storage size (such as 20Gi)")


def percona_common(spec: PMap, where: str, cluster: PMap, operator: str, stores: tuple[str, ...]) -> Iterator[Problem]:
    """Rules the two Percona operators share: an odd size, TLS, backup stores, restores."""
    replicas, mark = located(cluster, "replicas")
    if not isinstance(replicas, int) or replicas < 3 or replicas % 2 == 0:
        yield Problem(mark, f"{where}.replicas: {operator} needs an odd number of members, at least 3 (a quorum survives one loss)")
    tls, mark = located(cluster, "tls", "enabled")
    if tls is False:
        yield Problem(mark, f"{where}.tls.enabled: {operator} runs with TLS; turning it off needs the operator's unsafe flags, which dbfleet does not set")
    method, method_mark = backup_method(cluster, "native")
    store, store_mark = located(cluster, "backup", "store")
    pitr, pitr_mark = located(cluster, "backup", "pitr")
    allowed = ", ".join(stores)
    if method == "dump":
        yield Problem(method_mark, f"{where}.backup.method: dump backups of a {operator} cluster are not rendered yet; use native")
    elif method == "native":
        kind = store_kind(spec, store) if isinstance(store, str) else None
        if store is None:
            yield Problem(store_mark, f"{where}.backup.store: a native backup needs a backup store (or set backup.method: none)")
        elif kind not in stores:
            yield Problem(store_mark, f"{where}.backup.store: {operator} backs up to {allowed} stores, not {kind}")
        elif kind == "volume" and _volume_size(spec, store) is None:
            yield Problem(store_mark, f"{where}.backup.store: {operator} writes each backup to a new volume: give the store's volume.size")
        if pitr and kind == "volume":
            yield Problem(pitr_mark, f"{where}.backup.pitr: point-in-time recovery uploads to object storage, not to a volume store")
    elif pitr:
        yield Problem(pitr_mark, f"{where}.backup.pitr: point-in-time recovery needs native backups")
    restore, mark = located(cluster, "restore")
    if isinstance(restore, PMap):
        if restore.get("backup") is None:
            yield Problem(mark, f"{where}.restore.backup: name the backup to restore (its folder in the store)")
        from_store, from_mark = located(restore, "fromStore")
        kind = store_kind(spec, from_store) if isinstance(from_store, str) else None
        if kind is not None and kind not in stores or kind == "volume":
            yield Problem(from_mark, f"{where}.restore.fromStore: {operator} restores a new cluster from s3 or azure stores, not {kind}")


def _volume_size(spec: PMap, name: str) -> object:
    entry = store(spec, name)
    return entry["volume"].get("size") if entry and isinstance(entry.get("volume"), PMap) else None


def pinned_version(where: str, cluster: PMap, engine: str) -> Iterator[Problem]:
    """The entry's version must be one the pinned operator release runs (renderer.kube.versions)."""
    from renderer.kube import versions  # (where the rules run: not before a catalog is read)

    version, mark = located(cluster, "version")
    table = versions.ENGINES[engine]
    if isinstance(version, str) and table.resolve(version) is not None:
        return
    shown = f"{version!r} is not a version {table.operator} runs" if version is not None else "give a version"
    yield Problem(mark, f"{where}.version: {shown}: a release line {table.accepted()}, or a build "
                        "(dbfleet versions lists them)")


ONE_LINE = re.compile(r"[^\x00-\x1f\x7f]*\Z")


def config_parameters(where: str, entry: PMap, path: tuple[str, ...], key: re.Pattern[str] | frozenset[str],
                      value: re.Pattern[str], target: str, cannot: str = "line breaks, control characters, quotes, '#' or '\\'",
                      ) -> Iterator[Problem]:
    """Parameters written into a configuration file (my.cnf, mongod.conf, pgbouncer.ini): a key
    or a value the file cannot hold literally would change its structure (a newline starts a new
    option).  ``key``: the form of an option's name, or the names the operator accepts."""
    parameters, _ = located(entry, *path)
    if not isinstance(parameters, PMap):
        return
    at = f"{where}.{'.'.join(path)}"
    for name, setting in parameters.items():
        mark = parameters.keymarks.get(name, parameters.mark)
        if isinstance(key, frozenset) and name not in key:
            import difflib  # only for a name that is not known

            close = difflib.get_close_matches(str(name), key, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            yield Problem(mark, f"{at}: {name!r} is not a parameter {target} accepts{hint}")
        elif not isinstance(key, frozenset) and not key.match(name):
            yield Problem(mark, f"{at}: {name!r} is not an option name {target} can hold")
        elif isinstance(setting, str) and not value.match(setting):
            yield Problem(mark, f"{at}.{name}: {setting!r} cannot be written literally in {target} (no {cannot})")


def not_for(where: str, cluster: PMap, reasons: dict[str, str]) -> Iterator[Problem]:
    """Keys an engine has no use for: refused with the reason, unless turned off."""
    for key, reason in reasons.items():
        value, mark = located(cluster, key)
        off = isinstance(value, PMap) and (value.get("method") == "none" or value.get("enabled") is False)
        if value not in (None, []) and not off:
            yield Problem(mark, f"{where}.{key}: {reason}")


def reserved_owners(where: str, cluster: PMap, reserved: set[str], reason: str) -> Iterator[Problem]:
    """Databases owned by a role the operator keeps for itself; ``reason`` names it as {role!r}."""
    for i, database in enumerate(cluster.get("databases") or []):
        owner, mark = located(database, "owner")
        role = owner or database.get("name")
        if role in reserved:
            yield Problem(mark if owner else database.mark, f"{where}.databases[{i}].owner: {reason.format(role=role)}")


# MySQL keeps user names of at most 32 characters (mysql.user.User is CHAR(32) since 5.7.8; a
# longer name is refused by CREATE USER).
MYSQL_USER_LENGTH = 32


def mysql_user(where: str, database: PMap) -> Iterator[Problem]:
    """A MySQL database's owner (its own name by default) must fit a MySQL user name."""
    owner, mark = located(database, "owner")
    user = owner or database.get("name")
    if isinstance(user, str) and len(user) > MYSQL_USER_LENGTH:
        given = "" if owner else " (the database's name, as no owner is given)"
        yield Problem(mark if owner else database.mark,
                      f"{where}.owner: {user!r}{given} is longer than the {MYSQL_USER_LENGTH} characters of a MySQL user name")


MONGODB_CHECK = ("collection", "filter", "atLeast")
# Operators that run JavaScript on the server: a drill's filter is data, never code.
SERVER_SIDE_JS = frozenset({"$where", "$function", "$accumulator"})


def drill_check(where: str, drill: PMap, mark: Mark, engine: object) -> Iterator[Problem]:
    """What a restore drill checks: an SQL query, or (MongoDB) a count of a collection's documents."""
    query, query_mark = located(drill, "query")
    if engine == "mongodb":
        if query is not None:
            yield Problem(query_mark, f"{where}.query: MongoDB has no SQL: its drill counts the documents of a collection "
                                      "(collection, and filter and atLeast)")
        if drill.get("collection") is None:
            yield Problem(mark, f"{where}: give the collection whose documents the drill counts (filter and atLeast "
                                "narrow the check)")
        found, filter_mark = located(drill, "filter")
        yield from _filter_problems(f"{where}.filter", found, filter_mark)
        return
    for field in MONGODB_CHECK:
        value, field_mark = located(drill, field)
        if value is not None:
            yield Problem(field_mark, f"{where}.{field}: MongoDB drills count documents; this one checks with an SQL query")
    if query is None:
        yield Problem(mark, f"{where}: give the query the drill checks the restored copy with (SQL: it passes when the "
                            "first column of the first row is true)")


def _filter_problems(where: str, value: object, mark: Mark) -> Iterator[Problem]:
    if isinstance(value, PMap):
        for key, item in value.items():
            key_mark = value.keymarks.get(key, mark)
            if key in SERVER_SIDE_JS:
                yield Problem(key_mark, f"{where}.{key}: runs JavaScript on the server: a drill's filter is a query "
                                        "document of data ($expr and the other operators)")
            yield from _filter_problems(f"{where}.{key}", item, key_mark)
    elif isinstance(value, PList):
        for index, (item, item_mark) in enumerate(zip(value, value.itemmarks)):
            yield from _filter_problems(f"{where}[{index}]", item, item_mark)
