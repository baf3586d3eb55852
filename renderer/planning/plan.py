"""What to render for each catalog entry: templates, their context, and how to label them.

Works on the normalised, plain spec of one environment (every schema property present), so the
decisions live here and in ``renderer.engines``, and the templates only lay values out.
"""
from __future__ import annotations

from typing import Any, Mapping

from renderer.engines import ENGINES, databases, proxy, vcluster
from renderer.engines import gitops as gitops_engine
from renderer.planning.components import Cached, Component, Fleet, KindOf, Unit, WAVE_CONFIG, WAVE_NAMESPACE
from renderer.planning.locations import Identity, store_identity, stores_used




def fleet_context(spec: dict[str, Any], fleet: str, env: str) -> Fleet:
    """What an engine reads beside its entry: all a cluster's unit depends on, with the cluster."""
    stores = {store["name"]: store for store in spec.get("backupStores") or []}
    return Fleet(fleet, env, stores, spec.get("secrets"), spec["clusterDomain"])


def plan(spec: dict[str, Any], fleet: str, env: str, kind_of: KindOf = lambda template: None,
         cached: Mapping[str, Cached] | None = None) -> list[Unit]:
    """Every folder of one environment's output, in a stable order.  ``kind_of``: the
    (apiVersion, kind) a template writes, for the GitOps objects' health checks.  ``cached``:
    the clusters (by name) whose units the unit cache holds as they would be planned now: their
    engines do not run again (their units have no components)."""
    context = fleet_context(spec, fleet, env)
    stores = context.stores
    units: list[Unit] = []
    # Each namespace: the first entry in it, and the Kubernetes clusters its entries run on.
    namespaces: dict[str, tuple[tuple[str, int | None], set[str | None]]] = {}
    proxied: set[str | None] = set()  # where entries are reached through xdatabase-proxy

    # Each namespace's ServiceAccounts of stores with a cloud identity, for the pods of its entries
    # that use them (CloudNativePG annotates the one it makes for each cluster instead: only its
    # restore drill runs as the namespace's).
    accounts: dict[str, dict[str, Identity]] = {}

    def add(namespace: str, source: tuple[str, int | None], target: str | None, entry: dict[str, Any] | None = None) -> None:
        namespaces.setdefault(namespace, (source, set()))[1].add(target)
        runs_as_account = entry and (entry.get("engine") != "postgresql"
                                     or (entry["backup"]["method"] == "native" and entry["backup"].get("drill")))
        for name in stores_used(entry) if entry and runs_as_account else ():
            identity = store_identity(name, stores[name]) if name in stores else None
            if identity:
                accounts.setdefault(namespace, {})[identity.account] = identity

    folders = {}
    for index, cluster in enumerate(spec.get("clusters") or []):
        source: tuple[str, int | None] = ("clusters", index)
        target = cluster["kubernetesCluster"]
        add(cluster["namespace"], source, target, cluster)
        folders[cluster["name"]] = folder = (cluster["namespace"], cluster["name"])
        if cluster["proxy"]["enabled"]:
            proxied.add(target)
        known = cached.get(cluster["name"]) if cached else None
        components = () if known else tuple(ENGINES[cluster["engine"]](cluster, context))
        units.append(Unit(folder, cluster["engine"], cluster["name"], components, source=source, targets=(target,),
                          cached=known))
    for index, database in enumerate(spec.get("databases") or []):
        source = ("databases", index)
        target = database["kubernetesCluster"]
        add(database["namespace"], source, target, database)
        if database["proxy"]["enabled"]:
            proxied.add(target)
        engine = databases.target(database["on"], spec).engine
        on_cluster = (folders[database["on"]],) if database["on"] in folders else ()
        units.append(Unit((database["namespace"], database["name"]), engine, database["name"],
                          tuple(databases.render(database, spec, context)), source=source, targets=(target,),
                          needs=on_cluster))
    gitops = spec.get("gitops") or {}
    gitops_namespace = gitops.get("namespace") or ("argocd" if gitops.get("engine") == "argocd" else "flux-system")
    database_folders = {d["name"]: (d["namespace"], d["name"]) for d in spec.get("databases") or []}
    for index, vc in enumerate(spec.get("vclusters") or []):
        source = ("vclusters", index)
        ns = vcluster.namespace(vc)
        add(ns, source, None)  # a vCluster runs where the GitOps engine runs
        parts = tuple(vcluster.render(vc, spec, context, gitops.get("engine", "argocd"), gitops_namespace))
        units.append(Unit((ns, vc["name"]), "vcluster", vc["name"], parts, source=source,
                          needs=(database_folders[vc["database"]],)))
    proxy_spec = spec.get("proxy")
    if proxy_spec and proxy_spec["enabled"]:
        # xdatabase-proxy finds the Services it routes to in its own Kubernetes cluster: one in
        # each cluster that has entries it serves.
        proxy_targets = tuple(sorted(proxied, key=_placement_order)) or (None,)
        for target in proxy_targets:
            add(proxy_spec["namespace"], ("proxy", None), target)
        units.append(Unit((proxy_spec["namespace"], proxy.NAME), proxy.NAME, proxy.NAME, tuple(proxy.render(proxy_spec)),
                          source=("proxy", None), targets=proxy_targets))
    for namespace, (source, targets) in sorted(namespaces.items()):
        units.append(
            Unit(
                (namespace,),
                "namespace",
                namespace,
                (Component("common/namespace.yaml.j2", {"namespace": namespace}, "namespace", WAVE_NAMESPACE, holds_data=True),
                 *(Component("common/serviceaccount.yaml.j2", {"namespace": namespace, "name": account,
                                                                 "annotations": identity.annotations},
                             "backup-identity", WAVE_CONFIG)
                   for account, identity in sorted(accounts.get(namespace, {}).items()))),
                source=source,
                targets=tuple(sorted(targets, key=_placement_order)),
            )
        )
    if gitops:
        placements = {k["name"]: k for k in spec.get("kubernetesClusters") or []}
        units += gitops_engine.render(units, gitops, placements, fleet, env, kind_of)
    return units


def _placement_order(target: str | None) -> tuple[bool, str]:
    """The GitOps engine's own cluster first, then the others by name."""
    return target is not None, target or ""
