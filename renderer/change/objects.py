"""Rules over rendered objects: what the API server and the GitOps engine do with the new output.

The catalog rules (``entries``) say why an entry changes; these see what the output does, whatever
caused it (a catalog edit, a new dbfleet release, a template override): an object that holds data
removed, an immutable field changed, a CloudNativePG image on another operating system.
"""
from __future__ import annotations

import re
from typing import Any, Iterator

from renderer.change.findings import Finding, Level

Identity = tuple[str, str, str, str]  # API group, kind, namespace, name
Objects = dict[Identity, tuple[str, dict[str, Any]]]  # identity -> (path in the output, object)

# StatefulSet fields the API server lets an update change (apps/v1 validation); the rest are immutable.
STATEFULSET_MUTABLE = {"replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy",
                       "minReadySeconds"}
KEPT = {  # what deleting a data-holding object would do, which Prune=false only postpones
    "Cluster": "CloudNativePG owns the cluster's PVCs: deleting the Cluster deletes its data",
    "PerconaXtraDBCluster": "deleting it deletes the pods; its PVCs go too with the delete-pxc-pvc finalizer",
    "PerconaServerMongoDB": "deleting it deletes the pods; its PVCs go too with the delete-psmdb-pvc finalizer",
    "Kafka": "deleting it deletes the brokers and, with deleteClaim, their volumes",
    "KafkaNodePool": "deleting it removes its brokers and, with deleteClaim, their volumes",
    "KafkaTopic": "deleting it makes the Topic Operator delete the topic and its messages",
    "PersistentVolumeClaim": "deleting it releases the volume (deleted with a Delete reclaim policy)",
    "Namespace": "deleting it deletes everything in it",
    "Secret": "deleting it removes credentials that apps and operators read",
    "ExternalSecret": "deleting it deletes the Secret it made (creationPolicy Owner)",
}


def identities(objects: dict[str, dict[str, Any]]) -> Objects:
    found: Objects = {}
    for path, obj in objects.items():
        metadata = obj.get("metadata") or {}
        group = str(obj.get("apiVersion", "")).rpartition("/")[0]
        found[(group, str(obj.get("kind")), str(metadata.get("namespace") or ""), str(metadata.get("name")))] = (path, obj)
    return found


def _annotations(obj: dict[str, Any]) -> dict[str, Any]:
    return (obj.get("metadata") or {}).get("annotations") or {}


def holds_data(obj: dict[str, Any]) -> bool:
    return "Delete=false" in str(_annotations(obj).get("argocd.argoproj.io/sync-options", ""))


def created_once(obj: dict[str, Any]) -> bool:
    """An on-demand backup: made once, kept when the catalog asks for the next."""
    return _annotations(obj).get("kustomize.toolkit.fluxcd.io/ssa") == "IfNotPresent"


def replaced(obj: dict[str, Any]) -> bool:
    """The GitOps engines delete and re-create it when an immutable field changes."""
    annotations = _annotations(obj)
    return ("Replace=true" in str(annotations.get("argocd.argoproj.io/sync-options", ""))
            or annotations.get("kustomize.toolkit.fluxcd.io/force") == "enabled")


def _named(identity: Identity) -> str:
    _, kind, namespace, name = identity
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def _differs(old: dict[str, Any], new: dict[str, Any], keys: set[str] | None = None, mutable: set[str] = set()) -> list[str]:
    names = keys if keys is not None else (set(old) | set(new)) - mutable
    return sorted(key for key in names if old.get(key) != new.get(key))


_CNPG_TAG = re.compile(r"[0-9]+(?:\.[0-9]+)*(?:-[0-9]+)?(?:-(?:minimal|standard|system))?-(?P<os>[a-z]+)\Z")


def _os(image: object) -> str | None:
    match = _CNPG_TAG.match(str(image).rpartition(":")[2])
    return match["os"] if match else None


def immutable(identity: Identity, old: dict[str, Any], new: dict[str, Any]) -> Iterator[Finding]:
    """Fields the API server (or the operator) refuses to change in place."""
    kind, what = identity[1], _named(identity)
    old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
    fields: list[str] = []
    if kind == "StatefulSet":
        fields = _differs(old_spec, new_spec, mutable=STATEFULSET_MUTABLE)
    elif kind == "Job":
        fields = _differs(old_spec, new_spec, {"template", "selector", "completionMode"})
    elif kind == "Deployment":
        fields = _differs(old_spec, new_spec, {"selector"})
    elif kind == "PersistentVolumeClaim":
        fields = _differs(old_spec, new_spec, mutable={"resources", "volumeAttributesClassName"})
    if fields:
        if replaced(new):
            yield Finding(Level.DISRUPTIVE, "object-replaced", f"{what}: {', '.join(fields)} changed",
                          "immutable here: the GitOps engine deletes and re-creates it (Replace=true, Flux force)")
        else:
            yield Finding(Level.DESTRUCTIVE, "immutable-field", f"{what}: {', '.join('spec.' + f for f in fields)} changed",
                          f"the API server refuses to change {'these fields' if len(fields) > 1 else 'this field'} of a "
                          f"{kind} in place, so the sync fails until the object is deleted by hand (and, for a Job, "
                          "runs again); mark it Replace=true (Argo CD) and force (Flux) if that is intended")
    if kind == "Cluster" and identity[0] == "postgresql.cnpg.io":
        before, after = _os(old_spec.get("imageName")), _os(new_spec.get("imageName"))
        if before and after and before != after:
            yield Finding(Level.DESTRUCTIVE, "os-base-changed", f"{what}: image OS {before} -> {after}",
                          "another C library changes collation order, which corrupts text indexes; CloudNativePG "
                          "runs major upgrades only between images of one distribution (cloudnative-pg v1.30.0 "
                          "docs/src/postgres_upgrades.md): move to another OS with a new cluster (logical import)")


def compare(old: Objects, new: Objects) -> Iterator[tuple[str, Finding]]:
    """(path of the object, finding) for every object added, removed or changed."""
    for identity in sorted(old.keys() - new.keys()):
        path, obj = old[identity]
        if created_once(obj):
            yield path, Finding(Level.SAFE, "object-kept", f"{_named(identity)} left in the cluster",
                                "created once: the GitOps engines neither prune nor re-create it")
        elif holds_data(obj):
            yield path, Finding(Level.DESTRUCTIVE, "data-object-removed", f"{_named(identity)} removed",
                                "dbfleet marks it Prune=false/Delete=false, so the GitOps engine leaves it unmanaged: "
                                "nothing reconciles, backs up or watches it any more, and "
                                + KEPT.get(identity[1], "deleting it deletes its data"))
        else:
            yield path, Finding(Level.SAFE, "object-removed", f"{_named(identity)} removed", "pruned by the GitOps engine")
    for identity in sorted(new.keys() - old.keys()):
        yield new[identity][0], Finding(Level.SAFE, "object-added", f"{_named(identity)} added", "created by the GitOps engine")
    for identity in sorted(old.keys() & new.keys()):
        (_, before), (path, after) = old[identity], new[identity]
        if before == after:
            continue
        found = list(immutable(identity, before, after))
        yield from ((path, finding) for finding in found)
        if not found:
            yield path, Finding(Level.SAFE, "object-changed", f"{_named(identity)} changed", "applied in place")
