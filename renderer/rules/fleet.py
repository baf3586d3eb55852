"""Across environments: no two of them, and no two entries, write to one backup folder or own one
database or role on a server.

The other rules see one environment at a time; what lives outside the cluster (a bucket, a
database server) is shared by all of them, so this rule looks at every environment at once.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from renderer.catalog.nodes import PMap
from renderer.errors import Mark, Problem
from renderer.planning.locations import Location, backup_location, server_identity
from renderer.rules._walk import backup_method, entries, located, store

ID = "fleet"

NATIVE_BACKUPS = {"postgresql", "mysql", "mongodb", "sqlite"}  # Kafka keeps no backups


@dataclass(frozen=True)
class Claim:
    """Something outside the cluster that one entry of one environment writes or owns."""

    env: str
    where: str  # clusters[0]
    name: str
    mark: Mark

    def __str__(self) -> str:
        return f"{self.where} ({self.name}) in {self.env}, {self.mark}"

    def conflict(self, first: Claim, what: str) -> str:
        """``what`` of this claim is ``first``'s too: said as one entry of two environments, or
        as two entries."""
        if (self.where, self.name, self.mark) == (first.where, first.name, first.mark):
            return f"{self.where}: {first.env} and {self.env} would both {what}"
        return f"{self.where}: {self.name} in {self.env} would {what}, as {first} does"


def archive(entry: PMap) -> str:
    """The folder an entry's backups go to under its environment's: PostgreSQL's serverName."""
    return str(located(entry, "backup", "serverName")[0] or entry["name"])


def _writers(spec: PMap, env: str) -> Iterator[tuple[Location, Claim]]:
    """The backup folder each entry of one environment writes to."""
    # What writes backups: a cluster's own (native), a database's dumps.
    for section, writing in (("clusters", "native"), ("databases", "dump")):
        for where, entry in entries(spec, section):
            method, _ = backup_method(entry, writing)
            name, mark = located(entry, "backup", "store")
            if method != writing or (section == "clusters" and entry.get("engine") not in NATIVE_BACKUPS):
                continue
            found = store(spec, name)
            if found is not None:
                yield backup_location(found, env, archive(entry)), Claim(env, where, entry["name"], mark)


def _archives_into_its_source(spec: PMap, env: str) -> Iterator[Problem]:
    """CloudNativePG refuses to archive WAL into a folder that holds an archive: a new cluster
    cannot write where the backups it restores from are."""
    for where, cluster in entries(spec, "clusters"):
        if cluster.get("engine") != "postgresql" or backup_method(cluster, "native")[0] != "native":
            continue
        restore = cluster.get("restore")
        if not isinstance(restore, PMap):
            continue
        backup_store, source_store = store(spec, located(cluster, "backup", "store")[0]), store(spec, restore.get("fromStore"))
        if backup_store is None or source_store is None:
            continue
        source = backup_location(source_store, restore.get("environment") or env,
                                 restore.get("serverName") or restore.get("sourceCluster") or cluster["name"])
        if source == backup_location(backup_store, env, archive(cluster)):
            _, mark = located(cluster, "restore", "sourceCluster")
            yield Problem(mark, f"{where}.restore: the new cluster would archive into the backups it restores from "
                                f"({source}); give it another name, another backup store, or restore from another environment")


def check_fleet(specs: dict[str, PMap]) -> Iterator[Problem]:
    """``specs``: the resolved (positioned) spec of every environment."""
    writers: dict[Location, list[Claim]] = {}
    for env, spec in specs.items():
        yield from _archives_into_its_source(spec, env)
        for location, claim in _writers(spec, env):
            writers.setdefault(location, []).append(claim)
    for location, claims in sorted(writers.items()):
        for claim in claims[1:]:
            yield Problem(claim.mark, claim.conflict(claims[0], f"write backups to {location}") + "; each needs a folder of its own")
        # A folder inside another's: what one writes, the other's tools (PBM, barman) take for theirs.
        for outer in location.outer():
            for other in writers.get(outer, []):
                yield Problem(claims[0].mark, f"{claims[0].where}.backup.store: {claims[0].name} in {claims[0].env} "
                                              f"would write its backups to {location}, inside the folder of {other} ({outer})")
    yield from _server_owners(specs)


def _server_owners(specs: dict[str, PMap]) -> Iterator[Problem]:
    """A database, and its owner role, on a server belongs to one environment's entry, unless the
    entries say they share it (``shared: true``: one password for all)."""
    owners: dict[tuple[str, str, int, str, str], list[tuple[Claim, bool]]] = {}
    for env, spec in specs.items():
        servers = {server["name"]: server for _, server in entries(spec, "servers")}
        for where, database in entries(spec, "databases"):
            server = servers.get(database.get("on"))
            if server is None:
                continue  # on a catalog cluster: each environment runs its own
            identity = server_identity(server)
            _, mark = located(database, "name")
            claim = Claim(env, where, database["name"], mark)
            shared = database.get("shared") is True
            owners.setdefault((*identity, "database", str(database["name"])), []).append((claim, shared))
            owners.setdefault((*identity, "role", str(database.get("owner") or database["name"])), []).append((claim, shared))
    # One problem per pair of claims, naming everything they both own (a database and its role).
    conflicts: dict[tuple[Claim, Claim, str], list[str]] = {}
    for (_, host, port, what, name), claims in owners.items():
        first, first_shared = claims[0]
        for claim, shared in claims[1:]:
            if not (shared and first_shared and claim.name == first.name):
                conflicts.setdefault((claim, first, f"{host}:{port}"), []).append(f"the {what} {name!r}")
    for (claim, first, address), owned in conflicts.items():
        yield Problem(claim.mark, claim.conflict(first, f"provision {' and '.join(owned)} on {address}") +
                      "; give each environment its own server (an overlay can change servers[].host) or database, "
                      "or say shared: true on the entry if the environments share it on purpose")
