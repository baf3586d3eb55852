"""PostgreSQL: what CloudNativePG's admission webhook and the barman-cloud plugin would refuse."""
from __future__ import annotations

import re
from typing import Iterator

from renderer.errors import Problem
from renderer.positioned import PMap
from renderer.rules._walk import backup_method, clusters, located, needs_storage_size, reserved_owners, store_kind

ID = "postgresql"

VERSION = re.compile(r"(1[3-9])(\.[0-9]+)?(-[a-z0-9][a-z0-9.-]*)?\Z")
RESERVED_ROLES = {"postgres", "streaming_replica"}


def check(spec: PMap) -> Iterator[Problem]:
    for where, cluster in clusters(spec, "postgresql"):
        yield from _cluster(spec, where, cluster)


def _cluster(spec: PMap, where: str, cluster: PMap) -> Iterator[Problem]:
    yield from needs_storage_size(where, cluster, "CloudNativePG")
    version, mark = located(cluster, "version")
    if version is None:
        yield Problem(mark, f"{where}.version: pin a PostgreSQL version (such as \"16.4\"); the image must not float")
    elif "latest" in version or "@" in version or not VERSION.match(version):
        yield Problem(
            mark,
            f"{where}.version: {version!r} is not a pinned PostgreSQL version; CloudNativePG "
            "refuses 'latest' and digest-only images: give a major 13-19 and a minor, such as \"16.4\"",
        )
    yield from reserved_owners(where, cluster, RESERVED_ROLES,
                               "CloudNativePG reserves the {role!r} role; give the database an owner of its own")
    mode, mark = located(cluster, "pooler", "mode")
    if mode == "statement":
        yield Problem(mark, f"{where}.pooler.mode: CloudNativePG's PgBouncer offers session and transaction pooling only")
    method, mark = backup_method(cluster, "native")
    store, store_mark = located(cluster, "backup", "store")
    if method == "dump":
        yield Problem(mark, f"{where}.backup.method: dump backups of a PostgreSQL cluster are not rendered yet; use native")
    elif method == "native":
        if store is None:
            yield Problem(store_mark, f"{where}.backup.store: a native backup needs a backup store (or set backup.method: none)")
        elif store_kind(spec, store) == "volume":
            yield Problem(store_mark, f"{where}.backup.store: the barman-cloud plugin writes to s3, gcs or azure, not to a volume store")
    restore, mark = located(cluster, "restore")
    if isinstance(restore, PMap):
        from_store, store_mark = located(restore, "fromStore")
        if isinstance(from_store, str) and store_kind(spec, from_store) == "volume":
            yield Problem(store_mark, f"{where}.restore.fromStore: the barman-cloud plugin restores from s3, gcs or azure, not from a volume store")
