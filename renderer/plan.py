"""What to render for each catalog entry: templates, their context, and how to label them.

Works on the normalised, plain spec of one environment (every schema property present), so the
decisions live here and in ``renderer.engines``, and the templates only lay values out.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator

from renderer.components import WAVE_NAMESPACE, Component, Fleet, Unit
from renderer.engines import ENGINES, databases, health, proxy, vcluster


KindOf = Callable[[str], "tuple[str, str] | None"]


def plan(spec: dict[str, Any], fleet: str, env: str, kind_of: KindOf = lambda template: None) -> list[Unit]:
    """Every folder of one environment's output, in a stable order.  ``kind_of``: the
    (apiVersion, kind) a template writes, for the GitOps objects' health checks."""
    stores = {store["name"]: store for store in spec.get("backupStores") or []}
    context = Fleet(fleet, env, stores, spec.get("secrets"), spec["clusterDomain"])
    units: list[Unit] = []
    namespaces: dict[str, tuple[str, int | None]] = {}  # each namespace, and the first entry in it
    for index, cluster in enumerate(spec.get("clusters") or []):
        source: tuple[str, int | None] = ("clusters", index)
        namespaces.setdefault(cluster["namespace"], source)
        folder = (cluster["namespace"], cluster["name"])
        components = list(ENGINES[cluster["engine"]](cluster, context))
        units.append(Unit(folder, cluster["engine"], cluster["name"], tuple(c for c in components if not c.kustomize_component),
                          source=source))
        for c in components:
            if c.kustomize_component:
                units.append(Unit((*folder, c.kustomize_component), cluster["engine"], cluster["name"], (c,),
                                  kustomize_component=True, source=source))
    for index, database in enumerate(spec.get("databases") or []):
        source = ("databases", index)
        namespaces.setdefault(database["namespace"], source)
        engine = databases.target(database["on"], spec).engine
        units.append(Unit((database["namespace"], database["name"]), engine, database["name"],
                          tuple(databases.render(database, spec, context)), source=source))
    gitops = spec.get("gitops") or {}
    gitops_namespace = gitops.get("namespace") or ("argocd" if gitops.get("engine") == "argocd" else "flux-system")
    for index, vc in enumerate(spec.get("vclusters") or []):
        source = ("vclusters", index)
        ns = vcluster.namespace(vc)
        namespaces.setdefault(ns, source)
        parts = tuple(vcluster.render(vc, spec, context, gitops.get("engine", "argocd"), gitops_namespace))
        units.append(Unit((ns, vc["name"]), "vcluster", vc["name"], parts, source=source))
    proxy_spec = spec.get("proxy")
    if proxy_spec and proxy_spec["enabled"]:
        namespaces.setdefault(proxy_spec["namespace"], ("proxy", None))
        units.append(Unit((proxy_spec["namespace"], proxy.NAME), proxy.NAME, proxy.NAME, tuple(proxy.render(proxy_spec)),
                          source=("proxy", None)))
    for namespace, source in sorted(namespaces.items()):
        units.append(
            Unit(
                (namespace,),
                "namespace",
                namespace,
                (Component("common/namespace.yaml.j2", {"namespace": namespace}, "namespace", WAVE_NAMESPACE, holds_data=True),),
                source=source,
            )
        )
    if gitops:
        kinds = {kind_of(c.template) for unit in units if not unit.kustomize_component for c in unit.components}
        parts = tuple(_gitops(gitops, fleet, env, {k for k in kinds if k is not None}))
        units.append(Unit(("gitops",), "gitops", f"{fleet}-{env}", parts, source=("gitops", None)))
    return units


def _gitops(gitops: dict[str, Any], fleet: str, env: str, kinds: set[tuple[str, str]]) -> Iterator[Component]:
    context = {"gitops": gitops, "name": f"{fleet}-{env}", "path": f"{gitops['path'].strip('/')}/{env}",
               "health": health.expressions(kinds)}
    if gitops["engine"] == "argocd":
        yield Component("gitops/application.yaml.j2", {**context, "namespace": gitops["namespace"] or "argocd"}, "gitops", 0)
    else:
        flux = {**context, "namespace": gitops["namespace"] or "flux-system"}
        yield Component("gitops/gitrepository.yaml.j2", flux, "gitops", 0)
        yield Component("gitops/kustomization.yaml.j2", flux, "gitops", 0)
