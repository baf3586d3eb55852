"""Names that collide: a namespace that is the GitOps folder, entries that share a folder or a
reference name.  (The catalog's schema checks that names are DNS-1123 labels and SQL identifiers.)"""
from __future__ import annotations

from typing import Iterator

from renderer.catalog.nodes import PMap
from renderer.errors import Problem
from renderer.rules._walk import entries, located

ID = "names"

RESERVED_FOLDER = "gitops"
SECTIONS = ("backupStores", "clusters", "servers", "databases", "vclusters")


def check(spec: PMap) -> Iterator[Problem]:
    yield from check_units(spec)
    for section in SECTIONS:
        for where, entry in entries(spec, section):
            namespace, mark = located(entry, "namespace")
            if namespace == RESERVED_FOLDER:
                yield Problem(mark, f"{where}.namespace: {RESERVED_FOLDER!r} is the folder of the GitOps objects; choose another namespace")
    clusters = {c["name"]: c for _, c in entries(spec, "clusters")}
    for where, database in entries(spec, "databases"):
        same_name = clusters.get(database["name"])
        if same_name is not None and same_name.get("namespace") == database.get("namespace"):
            _, mark = located(database, "name")
            yield Problem(mark, f"{where}.name: {database['name']!r} is also a cluster in namespace "
                                f"{database.get('namespace')!r}; both would be written to one folder")
    live = {e["name"] for section in ("clusters", "databases", "vclusters") for _, e in entries(spec, section)}
    for where, gone in entries(spec, "decommissioned"):
        if gone["name"] in live:
            _, mark = located(gone, "name")
            yield Problem(mark, f"{where}.name: {gone['name']!r} is still in the catalog; decommissioned says why an "
                                "entry was removed: remove the entry, or this")
    for where, server in entries(spec, "servers"):
        if server["name"] in clusters:
            _, mark = located(server, "name")
            yield Problem(
                mark,
                f"{where}.name: {server['name']!r} is also a cluster name; databases refer to "
                "both by name, so they must differ",
            )


def check_units(spec: PMap) -> Iterator[Problem]:
    """Two GitOps units named alike: a unit is named by its folder's parts joined with '-', so
    namespace ``a-b`` and entry ``b`` in namespace ``a`` would be one Application or Kustomization."""
    seen: dict[tuple[object, str], str] = {}
    for section in ("clusters", "databases", "vclusters"):
        for where, entry in entries(spec, section):
            name, mark = located(entry, "name")
            namespace = entry.get("namespace") or (f"vcluster-{name}" if section == "vclusters" else None)
            target = entry.get("kubernetesCluster")
            if not isinstance(name, str) or not isinstance(namespace, str):
                continue
            for key, what in (((target, namespace), f"namespace {namespace!r}"),
                              ((target, f"{namespace}-{name}"), f"{where} ({namespace}/{name})")):
                first = seen.setdefault(key, what)
                if first != what:
                    yield Problem(mark, f"{where}: {what} and {first} would give two GitOps units one name "
                                        f"(<fleet>-<env>-{key[1]}); rename one of them")
