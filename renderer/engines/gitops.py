"""How an environment reaches its Kubernetes clusters: one GitOps unit per folder of output.

Every catalog entry (and each namespace, and the proxy) is a folder of its own and a kustomize
root of a few objects, delivered by its own Argo CD ``Application`` or Flux ``Kustomization``:
no build grows with the fleet (kustomize's cost grows with the square of the objects in one
root: kubernetes-sigs/kustomize#5084), one broken database holds up only what uses it, and each
entry can go to the Kubernetes cluster it is placed on.  Per entry rather than per namespace:
a namespace can hold a thousand clusters.

A user applies one folder per environment, ``rendered/<env>/gitops``:
- Argo CD: an ``ApplicationSet`` whose git files generator reads one parameter file per unit
  (``gitops/units/<unit>.json``) and makes one ``Application`` each.  Argo CD has no order among
  Applications (ApplicationSet progressive syncs are alpha, and would hold the whole fleet
  behind its slowest cluster); each Application creates its namespace if it is not there yet,
  and Jobs wait for the server they need, so no order is needed.  Inside an entry, sync waves
  order its objects.
- Flux: a ``GitRepository`` and a root ``Kustomization`` applying one ``Kustomization`` per unit
  (in shards of at most ``SHARD`` once the fleet is larger), each with ``dependsOn``: its
  namespace first, the cluster a database lives on, the database a vCluster runs on.  Flux has no
  waves inside a Kustomization; each waits (``wait: true``, ``healthCheckExprs``) until every
  object is ready, so what depends on it starts only then.
"""
from __future__ import annotations

from dataclasses import dataclass
from hashlib import sha256
from typing import Any, Iterator

from renderer.engines import health
from renderer.kube import kubenames
from renderer.planning.components import Component, KindOf, Unit

SHARD = 200  # unit Kustomizations per kustomize root: a build of 200 small objects takes ~0.1 s
IN_CLUSTER = "https://kubernetes.default.svc"


@dataclass(frozen=True)
class Delivery:
    """One folder delivered to one Kubernetes cluster."""

    name: str
    folder: tuple[str, ...]
    target: str | None
    depends_on: tuple[str, ...]
    kinds: frozenset[tuple[str, str]]
    holds_data: bool


def unit_name(fleet: str, env: str, target: str | None, folder: tuple[str, ...]) -> str:
    """``<fleet>-<env>[-<target>]-<folder>``; a name too long for a label value (Flux labels what
    a Kustomization applies with its name) keeps its start and a digest of the whole."""
    name = "-".join((fleet, env, *([target] if target else []), *folder))
    if len(name) <= kubenames.LABEL.length:
        return name
    return f"{name[:kubenames.LABEL.length - 9].rstrip('-.')}-{sha256(name.encode()).hexdigest()[:8]}"


def deliveries(units: list[Unit], fleet: str, env: str, kind_of: KindOf) -> list[Delivery]:
    """Each folder to each Kubernetes cluster it goes to, with what it waits for."""
    delivered = [(unit, facts) for unit, facts in ((u, u.delivered()) for u in units) if facts.templates]
    target_of = {u.folder: u.targets[0] for u, _ in delivered}
    out = []
    for unit, facts in delivered:
        kinds = frozenset(k for k in map(kind_of, facts.templates) if k)
        for target in unit.targets:
            needs = [(unit.folder[0],)] if len(unit.folder) > 1 else []
            depends = [unit_name(fleet, env, target, f) for f in needs]
            depends += [unit_name(fleet, env, target_of[f], f) for f in unit.needs]
            out.append(Delivery(unit_name(fleet, env, target, unit.folder), unit.folder, target, tuple(depends), kinds,
                                facts.holds_data))
    return out


def render(units: list[Unit], gitops: dict[str, Any], placements: dict[str, dict[str, Any]], fleet: str, env: str,
           kind_of: KindOf) -> Iterator[Unit]:
    """The GitOps folders of one environment: ``gitops/`` to apply, and what it fans out to."""
    root = f"{gitops['path'].strip('/')}/{env}"
    base = {"gitops": gitops, "name": f"{fleet}-{env}", "fleet": fleet, "env": env}
    units_folder = ("gitops", "units")
    found = deliveries(units, fleet, env, kind_of)
    if gitops["engine"] == "argocd":
        namespace = gitops["namespace"] or "argocd"
        scripts = health.argocd_scripts({kind for d in found for kind in d.kinds})
        yield Unit(("gitops",), "gitops", f"{fleet}-{env}", (
            Component("gitops/applicationset.yaml.j2", {**base, "namespace": namespace, "files": f"{root}/gitops/units/*.json"},
                      "gitops", 0),
            *([Component("gitops/argocd-cm.yaml.j2", {"namespace": namespace, "scripts": scripts}, "gitops", 0,
                         file="argocd-cm-health.yaml")] if scripts else []),
        ), source=("gitops", None))
        yield Unit(units_folder, "gitops", f"{fleet}-{env}", tuple(
            Component("gitops/argocd-unit.yaml.j2", {
                "name": d.name, "folder": "/".join((root, *d.folder)), "namespace": d.folder[0],
                "destination": _argocd_destination(placements, d.target), "entry": d.folder[-1],
            }, "gitops", 0, file=f"{d.name}.json") for d in found), source=("gitops", None))
        return
    namespace = gitops["namespace"] or "flux-system"
    flux = {**base, "namespace": namespace}

    def kustomization(name: str, path: tuple[str, ...], **extra: Any) -> Component:
        context = {**flux, "name": name, "path": "./" + "/".join((root, *path)), "depends_on": [], "health": [],
                   "kube_config": None, "orphan": True, "wait": False, **extra}
        return Component("gitops/kustomization.yaml.j2", context, "gitops", 0)

    yield Unit(("gitops",), "gitops", f"{fleet}-{env}", (
        Component("gitops/gitrepository.yaml.j2", flux, "gitops", 0),
        kustomization(f"{fleet}-{env}", units_folder),
    ), source=("gitops", None))
    per_unit = [kustomization(d.name, d.folder, depends_on=[{"name": n} for n in d.depends_on], health=health.expressions(set(d.kinds)),
                              kube_config=_flux_kube_config(placements, d.target), orphan=d.holds_data, wait=True)
                for d in found]
    if len(per_unit) <= SHARD:
        yield Unit(units_folder, "gitops", f"{fleet}-{env}", tuple(per_unit), source=("gitops", None))
        return
    # Shards by a digest of the unit's name: a unit stays in its shard as others come and go.
    count = 1
    while len(per_unit) > count * SHARD:
        count *= 2
    shards: dict[str, list[Component]] = {}
    for d, component in zip(found, per_unit):
        shards.setdefault(f"{int(sha256(d.name.encode()).hexdigest()[:8], 16) % count:02x}", []).append(component)
    yield Unit(units_folder, "gitops", f"{fleet}-{env}", tuple(
        kustomization(f"{fleet}-{env}-units-{shard}", (*units_folder, shard)) for shard in sorted(shards)),
        source=("gitops", None))
    for shard, components in sorted(shards.items()):
        yield Unit((*units_folder, shard), "gitops", f"{fleet}-{env}", tuple(components), source=("gitops", None))


def _argocd_destination(placements: dict[str, dict[str, Any]], target: str | None) -> dict[str, str]:
    """Argo CD wants a name or a server, not both: the other is empty."""
    reach = placements[target]["argocd"] if target else {"server": IN_CLUSTER}
    return {"name": reach.get("name") or "", "server": reach.get("server") or ""}


def _flux_kube_config(placements: dict[str, dict[str, Any]], target: str | None) -> dict[str, Any] | None:
    if target is None:
        return None
    flux = placements[target]["flux"]
    return {"secretRef": {"name": flux["kubeConfigSecret"], **({"key": flux["key"]} if flux["key"] else {})}}
