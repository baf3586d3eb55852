"""Placement on Kubernetes clusters: every kubernetesCluster is declared, says how the GitOps
engine reaches it, and keeps together what must talk over a cluster's own Service names."""
from __future__ import annotations

from typing import Iterator

from renderer.catalog.nodes import PMap
from renderer.errors import Problem
from renderer.rules._walk import entries, located
from renderer.rules.references import missing

ID = "placement"

REACH = {"argocd": "argocd.name or argocd.server", "flux": "flux.kubeConfigSecret"}


def check(spec: PMap) -> Iterator[Problem]:
    declared = {entry["name"]: (where, entry) for where, entry in entries(spec, "kubernetesClusters")}
    engine = spec["gitops"].get("engine") if isinstance(spec.get("gitops"), PMap) else None
    placed: dict[str, str | None] = {}  # cluster name -> its Kubernetes cluster
    used: set[str] = set()
    for section in ("clusters", "databases"):
        for where, entry in entries(spec, section):
            value, mark = located(entry, "kubernetesCluster")
            if section == "clusters":
                placed[entry["name"]] = value
            if value is None:
                continue
            if value not in declared:
                yield Problem(mark, missing(f"{where}.kubernetesCluster", "Kubernetes cluster", value, declared))
            elif engine is None:
                yield Problem(mark, f"{where}.kubernetesCluster: placement is done by the GitOps engine: set gitops")
            used.add(value)
    for name in sorted(used & set(declared)):
        where, entry = declared[name]
        if engine in REACH and engine not in entry:
            yield Problem(located(entry, "name")[1], f"{where}: {name!r} has entries placed on it, and {engine} needs "
                                                     f"to know how to reach it: set {REACH[engine]}")
    for where, database in entries(spec, "databases"):
        on = database["on"]
        if on in placed and database.get("kubernetesCluster") != placed[on]:
            yield Problem(located(database, "kubernetesCluster")[1] if "kubernetesCluster" in database else database.mark,
                          f"{where}: it lives on cluster {on!r}, which runs on {_where(placed[on])}, but the database "
                          f"is placed on {_where(database.get('kubernetesCluster'))}: its Jobs reach the cluster by its "
                          f"Service name, inside one Kubernetes cluster")
    databases = {d["name"]: d for _, d in entries(spec, "databases")}
    for where, vcluster in entries(spec, "vclusters"):
        backing = databases.get(vcluster["database"])
        if backing is not None and placed.get(backing["on"]):
            yield Problem(located(vcluster, "database")[1],
                          f"{where}.database: {backing['name']!r} lives on cluster {backing['on']!r}, placed on "
                          f"{_where(placed[backing['on']])}; a vCluster runs where the GitOps engine runs, and reaches "
                          f"a catalog cluster by its Service name only there")


def _where(kubernetes_cluster: object) -> str:
    return f"Kubernetes cluster {kubernetes_cluster!r}" if kubernetes_cluster else "the GitOps engine's own cluster"
