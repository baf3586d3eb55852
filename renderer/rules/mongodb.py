"""MongoDB: what the Percona Operator for MongoDB's validation would refuse."""
from __future__ import annotations

from typing import Iterator

from renderer.errors import Problem
from renderer.positioned import PMap
from renderer.rules._walk import (
    clusters,
    located,
    needs_storage_size,
    percona_common,
    pinned_version,
    reserved_owners,
    store,
    store_kind,
)

ID = "mongodb"

SYSTEM_USERS = {"databaseAdmin", "clusterAdmin", "userAdmin", "clusterMonitor", "backup", "pmmserver"}


def check(spec: PMap) -> Iterator[Problem]:
    for where, cluster in clusters(spec, "mongodb"):
        yield from needs_storage_size(where, cluster, "Percona Server for MongoDB")
        yield from pinned_version(where, cluster, "mongodb")
        yield from percona_common(spec, where, cluster, "Percona Server for MongoDB", ("s3", "gcs", "azure"))
        enabled, mark = located(cluster, "pooler", "enabled")
        if enabled:
            yield Problem(mark, f"{where}.pooler: MongoDB has no pooler; shard the cluster (sharding.enabled) for mongos routers")
        for path in (("backup", "store"), ("restore", "fromStore")):
            name, mark = located(cluster, *path)
            kind, entry = store_kind(spec, name), store(spec, name)
            if entry and kind in ("gcs", "azure") and not entry[kind].get("credentialsSecret"):
                yield Problem(mark, f"{where}.{'.'.join(path)}: Percona Backup for MongoDB needs a credentialsSecret in {kind} stores")
        yield from reserved_owners(where, cluster, SYSTEM_USERS, "the operator keeps the {role!r} user for itself")
        count, mark = located(cluster, "sharding", "configServers")
        if isinstance(count, int) and (count < 3 or count % 2 == 0):
            yield Problem(mark, f"{where}.sharding.configServers: the config server replica set needs an odd size of at least 3")
