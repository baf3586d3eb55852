"""MySQL: what the Percona XtraDB Cluster operator's validation would refuse."""
from __future__ import annotations

import re
from typing import Iterator

from renderer.catalog.nodes import PMap
from renderer.errors import Problem
from renderer.planning.locations import PXC_BACKUP_NAME
from renderer.rules._walk import (clusters, config_parameters, located, mysql_user, needs_storage_size, percona_common,
                                  pinned_version, reserved_owners, store, store_kind)

ID = "mysql"

# my.cnf: an option is a word; "#" starts a comment anywhere on a line, quotes and "\" are read.
OPTION = re.compile(r"[A-Za-z][A-Za-z0-9_-]*\Z")
VALUE = re.compile(r"[^\x00-\x1f\x7f#'\"\\]*\Z")

# Users the operator keeps for itself.
SYSTEM_USERS = {"root", "xtrabackup", "monitor", "proxyadmin", "operator", "replication", "clustercheck", "pmmserver"}


def check(spec: PMap) -> Iterator[Problem]:
    for where, cluster in clusters(spec, "mysql"):
        yield from needs_storage_size(where, cluster, "Percona XtraDB Cluster")
        yield from pinned_version(where, cluster, "mysql")
        yield from percona_common(spec, where, cluster, "Percona XtraDB Cluster", ("s3", "azure", "volume"))
        replicas, mark = located(cluster, "pooler", "replicas")
        enabled, _ = located(cluster, "pooler", "enabled")
        if enabled and isinstance(replicas, int) and replicas < 2:
            yield Problem(mark, f"{where}.pooler.replicas: HAProxy needs at least 2 replicas")
        yield from reserved_owners(where, cluster, SYSTEM_USERS, "the operator keeps the {role!r} user for itself")
        yield from config_parameters(where, cluster, ("parameters",), OPTION, VALUE, "my.cnf")
        for i, database in enumerate(cluster.get("databases") or []):
            yield from mysql_user(f"{where}.databases[{i}]", database)
        for path in (("backup", "store"), ("restore", "fromStore")):
            name, mark = located(cluster, *path)
            entry = store(spec, name)
            kind = store_kind(spec, name)
            if entry is None or kind not in ("s3", "azure") or entry[kind].get("credentialsSecret") is not None:
                continue
            if kind == "azure":  # the account key from the Secret (pkg/pxc/backup/job.go at v1.19.0)
                yield Problem(mark, f"{where}.{'.'.join(path)}: Percona XtraDB Cluster needs a credentialsSecret in "
                                    "azure stores (its backups read the storage account's key)")
            elif path[0] == "restore" and entry[kind].get("identity") is not None:
                # Restore jobs run as spec.pxc.serviceAccountName (pkg/pxc/backup/restore.go at v1.19.0),
                # the operator's workload account, which dbfleet does not annotate.
                yield Problem(mark, f"{where}.restore.fromStore: Percona XtraDB Cluster restores run as the cluster's "
                                    "own ServiceAccount, not the store's: give the store a credentialsSecret to restore")
        backup, mark = located(cluster, "restore", "backup")
        if isinstance(backup, str) and not PXC_BACKUP_NAME.match(backup):
            yield Problem(mark, f"{where}.restore.backup: {backup!r} is not the name of a PXC backup "
                                "(<cluster>-YYYY-MM-DD-hh:mm:ss-full, as the operator names them)")
