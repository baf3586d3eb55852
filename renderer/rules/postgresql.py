"""PostgreSQL: what CloudNativePG's admission webhook and the barman-cloud plugin would refuse."""
from __future__ import annotations

import re
from typing import Iterator

from renderer.errors import Problem
from renderer.positioned import PMap
from renderer.rules._walk import pinned_version, backup_method, clusters, located, needs_storage_size, reserved_owners, store_kind

ID = "postgresql"

RESERVED_ROLES = {"postgres", "streaming_replica"}


def check(spec: PMap) -> Iterator[Problem]:
    for where, cluster in clusters(spec, "postgresql"):
        yield from _cluster(spec, where, cluster)


def _cluster(spec: PMap, where: str, cluster: PMap) -> Iterator[Problem]:
    yield from needs_storage_size(where, cluster, "CloudNativePG")
    yield from pinned_version(where, cluster, "postgresql")
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
