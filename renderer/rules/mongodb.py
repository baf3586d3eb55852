"""MongoDB: what the Percona Operator for MongoDB's validation would refuse."""
from __future__ import annotations

import re
from typing import Iterator

from renderer.catalog.nodes import PMap
from renderer.errors import Problem
from renderer.rules._walk import (
    clusters,
    config_parameters,
    located,
    needs_storage_size,
    percona_common,
    pinned_version,
    reserved_owners,
    store,
    store_kind,
)

ID = "mongodb"

# mongod.conf: dotted names nest (net.port is port under net); values are YAML scalars.
OPTION = re.compile(r"[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*\Z")
VALUE = re.compile(r"[^\x00-\x1f\x7f]*\Z")

SYSTEM_USERS = {"databaseAdmin", "clusterAdmin", "userAdmin", "clusterMonitor", "backup", "pmmserver"}


def _nested_twice(where: str, cluster: PMap) -> Iterator[Problem]:
    """A setting and a setting under it (net and net.port) cannot both be written."""
    parameters = cluster.get("parameters")
    if not isinstance(parameters, PMap):
        return
    names = set(parameters)
    for name in sorted(names):
        for depth in range(1, name.count(".") + 1):
            parent = name.rsplit(".", depth)[0]
            if parent in names:
                yield Problem(parameters.keymarks[name], f"{where}.parameters.{name}: {parent!r} is set too, and "
                                                         f"{name!r} is a setting under it; give one of them")


def check(spec: PMap) -> Iterator[Problem]:
    for where, cluster in clusters(spec, "mongodb"):
        yield from needs_storage_size(where, cluster, "Percona Server for MongoDB")
        yield from pinned_version(where, cluster, "mongodb")
        yield from percona_common(spec, where, cluster, "Percona Server for MongoDB", ("s3", "gcs", "azure"))
        enabled, mark = located(cluster, "pooler", "enabled")
        if enabled:
            yield Problem(mark, f"{where}.pooler: MongoDB has no pooler; shard the cluster (sharding.enabled) for mongos routers")
        # PBM 2.12 reads GCS with a service account's key or HMAC keys only ("clientEmail and
        # privateKey are required", pbm/storage/gcs/google_client.go at v2.12.0), though the
        # operator would pass a storage without them.
        for path in (("backup", "store"), ("restore", "fromStore")):
            name, mark = located(cluster, *path)
            kind, entry = store_kind(spec, name), store(spec, name)
            if entry and kind in ("gcs", "azure") and not entry[kind].get("credentialsSecret"):
                yield Problem(mark, f"{where}.{'.'.join(path)}: Percona Backup for MongoDB needs a credentialsSecret in {kind} stores")
        yield from reserved_owners(where, cluster, SYSTEM_USERS, "the operator keeps the {role!r} user for itself")
        yield from config_parameters(where, cluster, ("parameters",), OPTION, VALUE, "mongod.conf")
        yield from _nested_twice(where, cluster)
        count, mark = located(cluster, "sharding", "configServers")
        if isinstance(count, int) and (count < 3 or count % 2 == 0):
            yield Problem(mark, f"{where}.sharding.configServers: the config server replica set needs an odd size of at least 3")
