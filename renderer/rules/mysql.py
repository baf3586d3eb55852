"""MySQL: what the Percona XtraDB Cluster operator's validation would refuse."""
from __future__ import annotations

import re
from typing import Iterator

from renderer.errors import Problem
from renderer.positioned import PMap
from renderer.rules._walk import clusters, located, needs_storage_size, percona_common

ID = "mysql"

VERSION = re.compile(r"8\.[04]\.[0-9]+-[0-9]+\.[0-9]+\Z")
# Users the operator keeps for itself.
SYSTEM_USERS = {"root", "xtrabackup", "monitor", "proxyadmin", "operator", "replication", "clustercheck", "pmmserver"}


def check(spec: PMap) -> Iterator[Problem]:
    for where, cluster in clusters(spec, "mysql"):
        yield from needs_storage_size(where, cluster, "Percona XtraDB Cluster")
        version, mark = located(cluster, "version")
        if not isinstance(version, str) or not VERSION.match(version):
            shown = f"{version!r} is not" if version is not None else "give"
            yield Problem(mark, f"{where}.version: {shown} a Percona XtraDB Cluster image tag (such as \"8.0.42-33.1\" or \"8.4.5-5.1\")")
        yield from percona_common(spec, where, cluster, "Percona XtraDB Cluster", ("s3", "azure", "volume"))
        replicas, mark = located(cluster, "pooler", "replicas")
        enabled, _ = located(cluster, "pooler", "enabled")
        if enabled and isinstance(replicas, int) and replicas < 2:
            yield Problem(mark, f"{where}.pooler.replicas: HAProxy needs at least 2 replicas")
        for i, database in enumerate(cluster.get("databases") or []):
            owner, owner_mark = located(database, "owner")
            if (owner or database.get("name")) in SYSTEM_USERS:
                yield Problem(owner_mark if owner else database.mark,
                              f"{where}.databases[{i}].owner: the operator keeps the {owner or database.get('name')!r} user for itself")
